"""SYNTHETIC benchmark documents: real corpus sentences recombined with random numbers — load-test data, never policy text."""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

from kb.core.records import SECTION_SEP, Chunk, DocMeta, Document, Paragraph, Span

REPO = Path(__file__).resolve().parent.parent
# In every title and heading path, so nothing generated here can be mistaken for a real clause.
LABEL = "【合成基准数据·非政策文本】"
ISSUER = "基准测试生成器（虚构，非发文机关）"
NUMBER = re.compile(r"\d+(?:\.\d+)?")
TARGET_CHARS = (60, 180)  # drawn text length; with the heading path the mean index text is ~195 chars, as in the seed KB
MAX_CHARS = 320  # the chunker's window: a passage stops before a sentence would take it past this
PER_DOC = 1000  # passages per synthetic document


def source_sentences(corpus_dir: Path = REPO / "corpus") -> list[str]:
    """The body sentences of the real corpus, split by the project's own parser."""
    from indexer.chunker import TEXT_KINDS
    from indexer.loader import load_corpus
    from indexer.structure import parse

    return [s.text for d in load_corpus(corpus_dir) for p in parse(d) if p.kind in TEXT_KINDS for s in p.sentences]


def _scramble_numbers(sentence: str, rng: random.Random) -> str:
    # Random figures: a recombined sentence must not repeat a real target as if it were stated here.
    return NUMBER.sub(lambda m: str(rng.randint(1, 999)), sentence)


def passage(i: int, sentences: list[str], rng: random.Random) -> tuple[list[str], list[str]]:
    """(heading path, sentences) of synthetic passage `i`: sentences drawn until a chunk-like length is reached."""
    section = [f"{LABEL}第{i // PER_DOC + 1}卷", f"第{rng.randint(1, 60)}节 合成专题{rng.randint(1, 500)}"]
    target, out, size = rng.randint(*TARGET_CHARS), [], 0
    while size < target:
        sentence = _scramble_numbers(rng.choice(sentences), rng)
        if out and size + len(sentence) > MAX_CHARS:
            break
        out.append(sentence)
        size += len(sentence)
    return section, out


def index_text(section: list[str], text: str) -> str:
    """What the indexer embeds and BM25-indexes for a passage: heading path, newline, text (as indexer.chunker)."""
    return SECTION_SEP.join(section) + "\n" + text


@dataclass
class SyntheticKB:
    documents: list[Document]
    paragraphs: list[Paragraph]  # one body paragraph per passage
    chunks: list[Chunk]  # one chunk per paragraph (passages stay within the chunker's window)

    def sentence_rows(self) -> list[tuple[Paragraph, Span]]:
        """Every sentence, in the order indexer.build embeds them (after all chunk rows)."""
        return [(p, s) for p in self.paragraphs for s in p.sentences]


def generate(n: int, seed: int = 20240601) -> SyntheticKB:
    """`n` deterministic passages laid out as the indexer would: documents, paragraphs with sentence spans, chunks."""
    rng = random.Random(seed)
    pool = source_sentences()
    docs, paras, chunks = [], [], []
    for first in range(0, n, PER_DOC):
        doc_id = f"synthetic-{first // PER_DOC + 1:04d}"
        text, doc_paras = "", []
        for i in range(first, min(n, first + PER_DOC)):
            section, sentences = passage(i, pool, rng)
            start, spans = len(text), []
            for s in sentences:
                spans.append(Span(start=len(text), end=len(text) + len(s), text=s))
                text += s
            doc_paras.append(Paragraph(doc_id=doc_id, index=i - first, kind="body", section=section, start=start,
                                       end=len(text), text=text[start:], sentences=spans))
            text += "\n"
        for p in doc_paras:
            chunks.append(Chunk(chunk_id=f"{doc_id}:{p.index}:0", doc_id=doc_id, section=p.section,
                                para_index=p.index, start=p.start, end=p.end, text=p.text,
                                index_text=index_text(p.section, p.text)))
        meta = DocMeta(doc_id=doc_id, file=f"{doc_id}.txt", title=f"{LABEL}第{first // PER_DOC + 1}卷",
                       issuer=ISSUER, doc_type="合成数据")
        docs.append(Document(meta=meta, text=text))
        paras += doc_paras
    return SyntheticKB(docs, paras, chunks)
