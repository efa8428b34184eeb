"""Triage from the citizen's words: which catalogue category a report is about, as scores
for every category (best first, summing to 1). Pure and local: no external service, no model
download, no pickle — the model is trained at start (about a second) from what is committed
here: the labelled set (``labelled.txt``, written for Lapor, formal and informal, SMS-like and
long) and the catalogue's own descriptions.

Text is normalised first: lower case, the informal spellings and abbreviations people use in
complaints and SMS ("tdk", "gak", "blm", "sdh", "jln", "pju", "e-ktp"/"ektp", "bpjs" ...)
written out, function words dropped, and each word stemmed with Sastrawi (so "jalannya",
"berlubang-lubang" and "pengaduan" meet "jalan", "lubang" and "adu"). The classifier is a
logistic regression over TF-IDF of the stemmed words (and pairs of words) and of character
n-grams of the normalised text (which carries misspellings and run-together words).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files
from typing import Any, NamedTuple

MAX_CHARACTERS = 6000
"""A title and description together (intake's form allows 200 + 5,000)."""

INFORMAL: dict[str, str] = {
    # negation and time
    "tdk": "tidak",
    "tak": "tidak",
    "gak": "tidak",
    "ga": "tidak",
    "gk": "tidak",
    "nggak": "tidak",
    "ngga": "tidak",
    "enggak": "tidak",
    "kagak": "tidak",
    "g": "tidak",
    "blm": "belum",
    "blum": "belum",
    "sdh": "sudah",
    "udh": "sudah",
    "udah": "sudah",
    "dah": "sudah",
    "sdah": "sudah",
    "skrg": "sekarang",
    "kmrn": "kemarin",
    "bln": "bulan",
    "thn": "tahun",
    "mgg": "minggu",
    "hr": "hari",
    "jm": "jam",
    "trs": "terus",
    "tp": "tapi",
    "pdhl": "padahal",
    "krn": "karena",
    "karna": "karena",
    "utk": "untuk",
    "dgn": "dengan",
    "dg": "dengan",
    "yg": "yang",
    "dr": "dari",
    "dri": "dari",
    "dlm": "dalam",
    "sm": "sama",
    "jg": "juga",
    "lg": "lagi",
    "bgt": "banget",
    "bngt": "banget",
    "sy": "saya",
    "aku": "saya",
    "gw": "saya",
    "ortu": "orang tua",
    "org": "orang",
    "tlg": "tolong",
    "tlong": "tolong",
    "mhn": "mohon",
    "pak": "bapak",
    "bu": "ibu",
    "rmh": "rumah",
    "dkt": "dekat",
    "dmn": "mana",
    "hrs": "harus",
    "bs": "bisa",
    "bisa2": "bisa",
    "dpt": "dapat",
    "dpn": "depan",
    "dtg": "datang",
    "smpe": "sampai",
    "sampe": "sampai",
    "jd": "jadi",
    "kl": "kalau",
    "klo": "kalau",
    # places and things
    "jln": "jalan",
    "jl": "jalan",
    "gg": "gang",
    "pju": "penerangan jalan umum",
    "got": "selokan",
    "aer": "air",
    "ngalir": "mengalir",
    "mampet": "tersumbat",
    "smph": "sampah",
    "sampa": "sampah",
    "tps": "tempat sampah",
    "tpa": "tempat sampah",
    "ektp": "ktp elektronik",
    "e-ktp": "ktp elektronik",
    "ktp-el": "ktp elektronik",
    "ktpel": "ktp elektronik",
    "kk": "kartu keluarga",
    "akte": "akta",
    "capil": "dukcapil",
    "disdukcapil": "dukcapil",
    "rs": "rumah sakit",
    "rsud": "rumah sakit",
    "igd": "gawat darurat",
    "ugd": "gawat darurat",
    "pustu": "puskesmas",
    "jkn": "bpjs",
    "kis": "bpjs",
    "sd": "sekolah",
    "smp": "sekolah",
    "sma": "sekolah",
    "smk": "sekolah",
    "paud": "sekolah",
    "ppdb": "penerimaan sekolah",
    "pip": "beasiswa sekolah",
    "kip": "beasiswa sekolah",
    "blt": "bantuan tunai",
    "bst": "bantuan tunai",
    "bpnt": "bantuan pangan",
    "pkh": "keluarga harapan",
    "kks": "kartu sejahtera",
    "dtks": "data sosial",
    "bansos": "bantuan sosial",
    "pbg": "izin bangunan",
    "imb": "izin bangunan",
    "nib": "izin usaha",
    "siup": "izin usaha",
    "oss": "izin usaha online",
    "dpmptsp": "pelayanan perizinan",
    "ptsp": "pelayanan perizinan",
    "pdam": "pdam air",
    "pamsimas": "pdam air",
    "ledeng": "pdam air",
}
STOPWORDS = frozenset(
    """
    yang dan di ke dari ini itu ada untuk dengan pada saya kami kita mereka mohon tolong agar
    supaya sangat karena juga akan atau oleh dalam sejak telah masih bisa dapat harus para
    bapak ibu sekali lagi nya pun lah kah tersebut sebagai namun tetapi tapi jadi serta bahwa
    hingga sampai setelah sebelum banget kalau padahal sudah belum terus sama orang the
    """.split()  # noqa: SIM905 - a word list reads better as text
)
WORD = re.compile(r"[0-9a-z]+(?:-[0-9a-z]+)*")


class TextRefusedError(ValueError):
    """Text the suggester does not take: empty, too long, or with a NUL character."""


PREFIXES = (
    "meng",
    "meny",
    "mem",
    "men",
    "me",
    "peng",
    "peny",
    "pem",
    "pen",
    "per",
    "pe",
    "ber",
    "be",
    "ter",
    "te",
    "di",
    "ke",
    "se",
)
PARTICLES = ("nya", "lah", "kah", "pun")
SUFFIXES = ("kan", "an", "i")


def sastrawi() -> Any:
    """Sastrawi's stemmer (PyPI ``sastrawi``): exact, but about 20 ms a word, so it runs when
    the stems are built (``make triage-model``), not while a citizen types."""
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory  # type: ignore[import-untyped]

    return StemmerFactory().create_stemmer()


@cache
def committed_stems() -> dict[str, str]:
    """Sastrawi's stem of every word of the labelled set and the catalogue (``stems.json``,
    built by ``make triage-model``; a test fails when it is out of date)."""
    raw = files("lapor_intake.triage").joinpath("stems.json").read_text(encoding="utf-8")
    found: dict[str, str] = json.loads(raw)
    return found


@cache
def known_stems() -> frozenset[str]:
    return frozenset(committed_stems().values())


@lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    """Sastrawi's stem when the word is in the committed stems; otherwise the first affix
    stripping that gives a known stem (only known stems can match the model's words), else
    the word itself."""
    found = committed_stems().get(word)
    if found is not None:
        return found
    known = known_stems()
    if word in known:
        return word
    bases = [word]
    for particle in PARTICLES:  # "pengaduannya" -> "pengaduan"
        if word.endswith(particle) and len(word) - len(particle) > 3:
            bases.append(word[: -len(particle)])
    for base in list(bases):
        for suffix in SUFFIXES:  # "pengaduan" -> "pengadu"
            if base.endswith(suffix) and len(base) - len(suffix) > 3:
                bases.append(base[: -len(suffix)])
    for base in bases:
        found = committed_stems().get(base)
        if found is not None:
            return found
        for prefix in ("", *PREFIXES):
            if prefix and not base.startswith(prefix):
                continue
            candidate = base[len(prefix) :]
            if len(candidate) > 2 and candidate in known:
                return candidate
    return word


def normalise(text: str) -> str:
    """Lower case, informal spellings written out, digits and punctuation dropped."""
    out: list[str] = []
    for token in WORD.findall(text.lower()):
        token = re.sub(r"(\w)\1{2,}", r"\1", token)  # "bgttt" -> "bgt"
        token = re.sub(r"2$", "", token) if len(token) > 3 else token  # "dmn2" -> "dmn"
        written = INFORMAL.get(token)
        if written is None and "-" in token:
            written = " ".join(INFORMAL.get(part, part) for part in token.split("-"))
        out.append(written or token)
    return " ".join(w for w in " ".join(out).split() if not w.isdigit())


def stems(text: str) -> str:
    """The normalised text's content words, stemmed."""
    return " ".join(stem(w) for w in normalise(text).split() if w not in STOPWORDS and len(w) > 1)


def check(title: str, description: str) -> str:
    text = f"{title}\n{description}"
    if "\x00" in text:
        raise TextRefusedError("nul")
    if not text.strip():
        raise TextRefusedError("empty")
    if len(text) > MAX_CHARACTERS:
        raise TextRefusedError("too_long")
    return text


@dataclass(frozen=True, slots=True)
class Example:
    category: str
    text: str


def labelled() -> list[Example]:
    """The committed labelled set, in file order."""
    raw = files("lapor_intake.triage").joinpath("labelled.txt").read_text(encoding="utf-8")
    out = []
    for line in raw.splitlines():
        if line.strip() and not line.startswith("#"):
            category, text = line.split("\t", 1)
            out.append(Example(category.strip(), text.strip()))
    return out


def split(examples: Sequence[Example], every: int = 5) -> tuple[list[Example], list[Example]]:
    """(train, held out): every ``every``-th example of each category is held out."""
    seen: dict[str, int] = {}
    train: list[Example] = []
    held: list[Example] = []
    for ex in examples:
        seen[ex.category] = seen.get(ex.category, 0) + 1
        (held if seen[ex.category] % every == 0 else train).append(ex)
    return train, held


def catalogue_examples() -> list[Example]:
    from lapor_schemas.reference import categories

    return [Example(c.code, f"{c.name}. {c.description}") for c in categories().values()]


class Suggester:
    """A trained model; :meth:`suggest` scores every catalogue category."""

    def __init__(self, examples: Iterable[Example], version: str = "committed") -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]
        from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
        from sklearn.pipeline import FeatureUnion, Pipeline  # type: ignore[import-untyped]
        from sklearn.preprocessing import FunctionTransformer  # type: ignore[import-untyped]

        data = list(examples)
        self.version = version
        words = Pipeline(
            [
                ("stems", FunctionTransformer(lambda xs: [stems(x) for x in xs])),
                ("tfidf", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)),
            ]
        )
        chars = Pipeline(
            [
                ("norm", FunctionTransformer(lambda xs: [normalise(x) for x in xs])),
                (
                    "tfidf",
                    TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True),
                ),
            ]
        )
        self.model = Pipeline(
            [
                ("features", FeatureUnion([("words", words), ("chars", chars)])),
                ("classify", LogisticRegression(C=20.0, max_iter=2000)),
            ]
        )
        self.model.fit([e.text for e in data], [e.category for e in data])
        self.categories: list[str] = [str(c) for c in self.model.classes_]

    def suggest(self, title: str, description: str = "") -> list[tuple[str, float]]:
        """Every category with its score, best first; the scores sum to 1."""
        text = check(title, description)
        scores = self.model.predict_proba([text])[0]
        ranked = sorted(zip(self.categories, scores, strict=True), key=lambda p: -p[1])
        return [(c, float(s)) for c, s in ranked]


def ready() -> bool:
    """Whether the committed model is built (intake builds it at start, in a thread)."""
    return default.cache_info().currsize > 0


@cache
def default() -> Suggester:
    """The model trained on the whole committed set and the catalogue (built once)."""
    return Suggester([*labelled(), *catalogue_examples()])


FLAG_SCORE = 0.8
"""How sure the suggester must be before a report is flagged for its verifier."""


class Suggested(NamedTuple):
    """The suggester's first category for a report, its score, and which model said so (the
    agreement with the final category is measured per model)."""

    code: str
    score: float
    model: str


def top(title: str, description: str, model: Suggester | None = None) -> Suggested | None:
    """The suggester's first category and its score for a report being filed; ``None`` while
    the model is still being built at start (a report is never held back for it) or when
    the text cannot be read."""
    if model is None and not ready():
        return None
    used = model or default()
    try:
        code, score = used.suggest(title, description)[0]
    except TextRefusedError:
        return None
    return Suggested(code, score, used.version)


def flag(title: str, description: str, model: Suggester | None = None) -> Suggested | None:
    """:func:`top` when the suggester is sure (``FLAG_SCORE``)."""
    found = top(title, description, model)
    return found if found is not None and found[1] >= FLAG_SCORE else None


# -- learning from corrections ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Correction:
    """A verifier's correction of a report's category: a labelled example of the province."""

    id: str  # the case.recategorised event's id (one example per correction)
    province: str
    category: str
    previous: str
    text: str


@dataclass(frozen=True, slots=True)
class Retrained:
    province: str
    examples: int
    current: float  # mean log-probability of the right category on the committed held-out
    candidate: float
    accepted: bool
    current_top1: float = 0.0
    candidate_top1: float = 0.0


def accuracy(model: Suggester, held: Sequence[Example]) -> float:
    if not held:
        return 0.0
    return sum(model.suggest(e.text)[0][0] == e.category for e in held) / len(held)


def likelihood(model: Suggester, held: Sequence[Example]) -> float:
    """Mean log-probability the model gives the right category of each held-out report: how
    well it scores them, smoother than top-1 (82 reports: one borderline report flipping is
    1.2 points of top-1, which would refuse a correction that helps every other)."""
    if not held:
        return 0.0
    return sum(math.log(max(dict(model.suggest(e.text))[e.category], 1e-12)) for e in held) / len(
        held
    )


def retrain(province: str, corrections: Sequence[Correction]) -> tuple[Retrained, Suggester | None]:
    """A province's model with its corrections folded in, used only if it answers the
    committed held-out reports at least as well as the model without them (a correction
    could be wrong, or teach the model something that costs more than it gives)."""
    train, held = split(labelled())
    base = [*train, *catalogue_examples()]
    extra = [Example(c.category, c.text) for c in corrections]
    now, new = Suggester(base), Suggester([*base, *extra])
    current, candidate = likelihood(now, held), likelihood(new, held)
    decision = Retrained(
        province,
        len(extra),
        current,
        candidate,
        candidate >= current,
        accuracy(now, held),
        accuracy(new, held),
    )
    if not decision.accepted:
        return decision, None
    version = f"{province}-{len(extra)}"
    return decision, Suggester([*labelled(), *catalogue_examples(), *extra], version)


def declined_to(doc: dict[str, Any], agency_categories: Sequence[str]) -> str | None:
    """The category a report turned out to be about when, after an agency declined it
    ("bukan wewenang"), it went to an agency that handles exactly one category and not the
    report's: a labelled example as a verifier's correction is."""
    declined = any(h.get("type") == "case.declined" for h in doc.get("history", []))
    if not declined or len(agency_categories) != 1:
        return None
    found = agency_categories[0]
    return found if found != doc.get("category") else None
