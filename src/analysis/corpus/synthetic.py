"""Synthetic corpora for benchmarks: clearly marked, never research data.

Articles are assembled from short phrase lists with a seeded generator, shaped
like the seed dumps (newsletter prompt, menu, title, paragraphs, credits, and
on some a comments section) so that every cleaning path is exercised. Every
article's outlet is ``SYNTHETIC``, its title starts with ``[SYNTHETIC]``, and
the manifest says so in its notes. The same (n, seed, format) gives the same
bytes.
"""

import csv
import hashlib
import random
from pathlib import Path

import orjson

_ACTORS = ["the accuser", "the accused manager", "a court in Chengdu", "prosecutors", "the police",
           "state media", "the university", "online commenters", "the company", "activists",
           "a former intern", "the television host", "her lawyer", "the metro operator"]
_VERBS = ["filed a defamation lawsuit against", "denied the allegations made by",
          "apologized to", "dismissed the case brought by", "fired", "detained",
          "called for solidarity with", "criticized", "sued", "questioned the credibility of",
          "deleted posts supporting", "offered compensation to", "ruled in favour of",
          "described as a witch hunt the claims of"]
_OBJECTS = ["the employee", "the two women", "the student", "the accuser's supporters",
            "the journalist", "the migrant worker", "ten employees who leaked the memo",
            "the plaintiff", "the defendant", "the advocacy group"]
_TAILS = ["after a hearing in August", "on Tuesday", "citing a lack of evidence",
          "despite widespread criticism online", "according to a statement",
          "in a post on Weibo", "for the second time this year", "without further comment",
          "as the hashtag trended", "under the personality rights provisions"]
_QUOTES = ["We need an environment where these things can be discussed openly",
           "The law should protect the real victims", "This is only the beginning",
           "Truth should be decided by the courts, not social media"]
_TITLE_WORDS = ["Court", "Lawsuit", "Backlash", "Accuser", "Metro", "Hearing", "Ruling",
                "Campaign", "Appeal", "Verdict", "Company", "Platform"]


def _sentence(rng: random.Random) -> str:
    if rng.random() < 0.12:
        return f"\u201c{rng.choice(_QUOTES)},\u201d said {rng.choice(_ACTORS)}."
    s = f"{rng.choice(_ACTORS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} {rng.choice(_TAILS)}."
    return s[0].upper() + s[1:]


def article(rng: random.Random, i: int) -> str:
    lines = ["Subscribe to our newsletter", "",
             "    \u2022 About Us", "    \u2022 |", "    \u2022 Contact Us", "",
             f"    [SYNTHETIC] {' '.join(rng.sample(_TITLE_WORDS, 4))} No. {i}", ""]
    for _ in range(rng.randint(6, 14)):
        lines += ["    " + " ".join(_sentence(rng) for _ in range(rng.randint(2, 5))), ""]
    lines.append(f"    Editor:\u00a0Synthetic Editor {i % 97}.")
    if rng.random() < 0.2:
        lines += ["", "One thought on \u201cA synthetic article", "",
                  "  1. " + _sentence(rng), "", "Leave a Reply", "", "Connecting to %s"]
    return "\n".join(lines)


def write_corpus(out, n: int, seed: int = 0, fmt: str = "txt") -> dict:
    """Write n synthetic articles and a manifest into folder ``out``.

    ``fmt`` 'txt' writes one file per article (like the seed corpus); 'jsonl'
    writes one collection file. Returns {'articles': n, 'bytes': text bytes}.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    total = 0
    with open(out / "manifest.csv", "w", newline="", encoding="utf-8") as mf:
        w = csv.writer(mf, lineterminator="\n")
        w.writerow(["doc_id", "file", "sha256", "outlet", "kind", "notes"])
        note = f"synthetic benchmark article (seed {seed}); not research data"
        if fmt == "txt":
            for i in range(n):
                data = article(rng, i).encode("utf-8")
                name = f"syn_{i:07d}.txt"
                (out / name).write_bytes(data)
                total += len(data)
                w.writerow([f"syn_{i:07d}", name, hashlib.sha256(data).hexdigest(),
                            "SYNTHETIC", "synthetic", note])
        else:
            h = hashlib.sha256()
            with open(out / "synthetic.jsonl", "wb") as f:
                for i in range(n):
                    rec = orjson.dumps({"id": f"{i:07d}", "text": article(rng, i)}) + b"\n"
                    f.write(rec)
                    h.update(rec)
                    total += len(rec)
            w.writerow(["syn", "synthetic.jsonl", h.hexdigest(), "SYNTHETIC", "synthetic", note])
    return {"articles": n, "bytes": total}
