"""Gradio without its type-stub writer: call `skip_stub_writing()` before Gradio is imported.

At every import, Gradio re-parses the source of each of its ~80 component classes and rewrites the .pyi stub files
beside them in site-packages (gradio.component_meta.create_or_modify_pyi): type hints for editors, nothing the
app runs. Measured, that is ~45% of `import gradio` (2.4 of 5.4 CPU seconds) and so of the app's start. The
function is replaced by a no-op as soon as its module is loaded, before any component class is defined. If a
later Gradio moves or renames it, nothing is patched and Gradio works as before.
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys

MODULE, FUNCTION = "gradio.component_meta", "create_or_modify_pyi"


class _StubSkipper(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != MODULE:
            return None
        sys.meta_path.remove(self)  # once: the module is found the ordinary way, then patched after it runs
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            if callable(getattr(module, FUNCTION, None)):
                setattr(module, FUNCTION, _write_no_stub)

        spec.loader.exec_module = exec_module
        return spec


def _write_no_stub(*args, **kwargs) -> None:
    return None


def skip_stub_writing() -> bool:
    """Install the patch; False if Gradio is already imported (then it is too late and nothing changes)."""
    if MODULE in sys.modules:
        return False
    if not any(isinstance(f, _StubSkipper) for f in sys.meta_path):
        sys.meta_path.insert(0, _StubSkipper())
    return True
