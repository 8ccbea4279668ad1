"""webui.gradio_stubs: Gradio imported without rewriting its editor stubs, and still building an app."""
import subprocess
import sys

from tests.test_app import REPO

CODE = """
from webui.gradio_stubs import skip_stub_writing
assert skip_stub_writing()
import gradio as gr
import gradio.blocks_events
import gradio.component_meta
meta = gradio.component_meta.create_or_modify_pyi
assert meta.__module__ == "webui.gradio_stubs", meta
assert gradio.blocks_events.create_or_modify_pyi is meta  # the name imported elsewhere is the no-op too
assert not skip_stub_writing()  # too late once Gradio is imported: nothing is installed
with gr.Blocks() as demo:
    box = gr.Textbox(label="问题")
    box.submit(lambda q: q, box, box)
assert any(c.get("props", {}).get("label") == "问题" for c in demo.config["components"])
print("ok")
"""


def test_gradio_builds_an_app_without_its_stub_writer():
    out = subprocess.run([sys.executable, "-c", CODE], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
