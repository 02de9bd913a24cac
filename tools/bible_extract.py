#!/usr/bin/python3
"""Turns two SWORD `mod2imp` dumps (English, Spanish) into a verse-aligned
English-Spanish parallel corpus split by whole chapters into train/dev/test.

What it is: the text-processing half of tools/make-bible-corpus.sh (which runs
mod2imp, checks prerequisites and moves the results into place atomically).
Standard library only; run with /usr/bin/python3.

What it is not: a general OSIS parser. It handles the markup that the Debian
modules engWEB2015eb (WEB, OSIS) and spaRV1909eb (RV1909, OSIS) actually use,
and it refuses (exit 1) if anything that looks like markup survives cleaning,
so a new module version with new markup fails loudly instead of leaking tags.

Steps: strip markup, footnotes, cross-references, headings and Strong's
numbers (clean_verse); remove RV1909's epistle colophons and chapter drop
caps; pair verses by key, dropping pairs that versification differences make
suspect (align); hold out whole chapters for dev/test (split_chapters).

Usage: bible_extract.py EN.imp ES.imp OUTDIR
Writes OUTDIR/{train,dev,test}.{en,es} and OUTDIR/keys.{train,dev,test}
(one "Book C:V" per line) and prints the counts.
"""
import html
import re
import sys

# Elements dropped together with their content: footnotes and cross-references
# (<note>, which also holds <reference>, <rdg>, <catchWord>), section headings
# (<title> unless canonical: see _unwrap_canonical_titles) and Song of Solomon
# speaker labels.
DROP_WITH_CONTENT = {"note", "title", "speaker"}
# Elements whose tags vanish but whose content is verse text, and which sit
# inside a word run (so the tag must not become a space: "Jesu<w>cristo</w>").
INLINE = {"w", "q", "transChange", "seg", "name", "hi", "foreign", "divineName"}
# Every other tag (div, l, lg, lb, chapter, milestone, list, item, ...) is a
# block or milestone boundary and becomes a space.

# Every HOLDOUT_EVERY-th chapter (in canonical order, counting only chapters
# with kept pairs, starting at HOLDOUT_OFFSET) is held out, alternately for
# dev and test: 73 chapters, about 1,000 verses each, spread over the Bible.
HOLDOUT_EVERY = 16
HOLDOUT_OFFSET = 7
# Pairs whose Spanish/English character-length ratio falls outside this range
# are suspect (see align).
MIN_RATIO, MAX_RATIO = 0.5, 2.0

KEY_RE = re.compile(r"^\$\$\$(.+?) (\d+):(\d+)$")
TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)\b([^>]*?)(/?)>")
_INLINE_ALT = "|".join(sorted(INLINE))
ADJACENT_INLINE_RE = re.compile(rf"(</(?:{_INLINE_ALT})>)(?=<(?:{_INLINE_ALT})[\s>])")
W_TAG_RE = re.compile(r"</?w\b[^>]*>")
NOTE_GAP = "\x00"  # stands where a dropped note was, until spacing is settled


def read_imp(path):
    """Yields (key, raw_text) for every real verse (chapter >= 1, verse >= 1)."""
    key, lines = None, []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("$$$"):
                if key is not None:
                    yield key, " ".join(lines)
                m = KEY_RE.match(line)
                # Module/testament headings and C:0 / 0:0 introductions are not verses.
                key = (m.group(1), int(m.group(2)), int(m.group(3))) if m else None
                if key is not None and (key[1] == 0 or key[2] == 0):
                    key = None
                lines = []
            else:
                lines.append(line)
    if key is not None:
        yield key, " ".join(lines)


def clean(raw):
    """Returns the verse text of one raw OSIS entry with tags removed; a dropped
    <note> leaves NOTE_GAP so the caller can settle the spacing around it."""
    # Anything after the end-of-chapter milestone is book-end / glossary
    # material appended to the chapter's last verse (e.g. WEB Revelation 22:21).
    end = raw.find("<chapter eID")
    if end >= 0:
        raw = raw[:end]
    # Both modules omit the space between two adjacent inline elements
    # ("Jesucristo</w><transChange>sea", "faith.”</q><w>Then"): words never
    # continue across such a boundary, so it is a space.
    raw = ADJACENT_INLINE_RE.sub(r"\1 ", raw)
    # <w> (Strong's numbers) are most of the tags: drop them up front for speed.
    raw = W_TAG_RE.sub("", raw)
    out = []
    skip = []  # stack of DROP_WITH_CONTENT elements we are inside
    pos = 0
    for m in TAG_RE.finditer(raw):
        if not skip:
            out.append(raw[pos:m.start()])
        pos = m.end()
        closing, name, selfclosing = m.group(1), m.group(2), m.group(4)
        if selfclosing:
            if not skip and name not in INLINE:
                out.append(" ")
        elif closing:
            if skip:
                if skip[-1] == name:
                    skip.pop()
                    if not skip:
                        out.append(NOTE_GAP if name == "note" else " ")
            elif name not in INLINE:
                out.append(" ")
        elif name in DROP_WITH_CONTENT:
            skip.append(name)
        elif not skip and name not in INLINE:
            out.append(" ")
    if skip:
        raise ValueError(f"unclosed <{skip[-1]}> in entry {raw[:200]!r}; "
                         "fix clean() in tools/bible_extract.py for this markup")
    out.append(raw[pos:])
    return "".join(out)


def clean_verse(raw):
    raw = _unwrap_canonical_titles(raw)
    text = clean(raw)
    # A note glued between two words ("God<note>..</note>created") must leave
    # a space; one before punctuation or a space must leave nothing.
    text = re.sub(r"\s*" + NOTE_GAP + r"+\s*(?=[,.;:!?’”»)\]]|$)", "", text)
    text = re.sub(NOTE_GAP + r"+(?=\s)", "", text)
    text = text.replace(NOTE_GAP, " ")
    text = html.unescape(text)
    text = re.sub(r"\s+", " ", text).strip()
    return text


def _unwrap_canonical_titles(raw):
    """Replaces <title canonical="true" ...>X</title> by ' X ' so X is kept."""
    return re.sub(r'<title\b[^>]*canonical="true"[^>]*>(.*?)</title>', r" \1 ", raw, flags=re.S)


def load(path):
    verses = {}
    order = []
    for key, raw in read_imp(path):
        text = clean_verse(raw)
        if text:
            if key not in verses:
                order.append(key)
            verses[key] = text
    return verses, order


COLOPHON_RE = re.compile(r"(Amén\.) [^.]*\b(?:[Ee]scrita|enviada)\b.*$")


def strip_colophons(verses, order):
    """Removes the KJV-style subscriptions ("La primera epístola á Timoteo fué
    escrita de Laodicea ...") that RV1909 appends to the last verse of the
    epistles; they are not verse text and WEB has no counterpart."""
    last = {}
    for k in order:
        last[(k[0], k[1])] = k
    for k in last.values():
        verses[k] = COLOPHON_RE.sub(r"\1", verses[k])


DROP_CAP_RE = re.compile(r"[^\W\d_]{2,}")


def lower_drop_caps(verses):
    """RV1909 prints the first word of each chapter in capitals ("EN el
    principio", "Y ACORDÓSE Dios"), a typographic drop cap, not emphasis. The
    leading all-capital words of each verse 1 are recased: title case when
    starting a sentence or a name (a word written capitalised more often than
    not mid-sentence elsewhere in the module), else lower case."""
    upper, lower = {}, {}
    for text in verses.values():
        for m in re.finditer(r"(?<=[^\W\d_] |[,;] )[^\W\d_]+", text):
            w = m.group(0)
            if w[0].isupper() and not w.isupper():
                upper[w.lower()] = upper.get(w.lower(), 0) + 1
            elif w.islower():
                lower[w] = lower.get(w, 0) + 1
    for k, text in verses.items():
        if k[2] != 1:
            continue
        first = next((m for m in DROP_CAP_RE.finditer(text) if m.group(0).isupper()), None)
        if first is None:
            continue
        # The drop cap may span several words ("DE SIETE años").
        run = re.compile(r"[^\W\d_]+(?: [^\W\d_]+)*").match(text, first.start())
        words = run.group(0).split(" ")
        n = next((i for i, w in enumerate(words) if not w.isupper()), len(words))
        recased = []
        for i, w in enumerate(words[:n]):
            before = text[:first.start()].rstrip(" ¡¿")
            sentence_start = i == 0 and (not before or before[-1] in ".!?:")
            w = w.lower()
            if sentence_start or upper.get(w, 0) > lower.get(w, 0):
                w = w[0].upper() + w[1:]
            recased.append(w)
        end = first.start() + len(" ".join(words[:n]))
        verses[k] = text[:first.start()] + " ".join(recased) + text[end:]


def align(en, en_order, es, es_order):
    """Returns (keys, dropped): the verse keys kept as pairs, in the English
    module's canonical order, and how many shared keys were dropped as suspect.

    Both modules key verses by KJV-like references, but RV1909 follows the
    Hebrew chapter division in a few places (Numbers 13 and 30, 1 Samuel 24,
    Job 39-40, Hosea 12, Jonah 2, ...): a verse missing from one module at a
    chapter end means that chapter or the next one is shifted by a verse or
    more, and a verse missing mid-chapter was merged into a neighbour. So:
      - a key non-empty in one module only drops its two neighbouring keys;
      - if it is the last verse of its chapter in the module that has it, the
        whole chapter and the next chapter of the same book are dropped;
      - a pair with an implausible length ratio drops itself and neighbours.
    """
    one_sided = [(k, order, other) for order, other in ((en_order, es), (es_order, en))
                 for k in order if k not in other]
    last_verse = {}
    for order in (en_order, es_order):
        for b, c, v in order:
            last_verse[(b, c)] = max(v, last_verse.get((b, c), 0))
    bad_keys, bad_chapters = set(), set()
    books_in_both = {k[0] for k in en_order} & {k[0] for k in es_order}
    for (b, c, v), _order, _other in one_sided:
        if b not in books_in_both:
            continue  # a book only one module has (the WEB deuterocanon)
        bad_keys.update({(b, c, v - 1), (b, c, v + 1)})
        if v == last_verse[(b, c)]:
            bad_chapters.update({(b, c), (b, c + 1)})
    shared = [k for k in en_order if k in es]
    # Verse boundaries also differ inside some chapters (Judges 14:19-20,
    # 1 Chronicles 21:25-27, ...) and RV1909 appends the KJV colophons to the
    # last verse of the epistles: a pair whose Spanish/English length ratio
    # is far from the usual (0.57-1.76 covers 99.8% of pairs) is dropped with
    # its neighbours.
    for k in shared:
        ratio = len(es[k]) / len(en[k])
        if not MIN_RATIO <= ratio <= MAX_RATIO:
            b, c, v = k
            bad_keys.update({(b, c, v - 1), k, (b, c, v + 1)})
    keys = [k for k in shared if k not in bad_keys and (k[0], k[1]) not in bad_chapters]
    return keys, len(shared) - len(keys)



def split_chapters(keys):
    """Maps each (book, chapter) of keys to "train", "dev" or "test"."""
    chapters = []
    for k in keys:
        if not chapters or chapters[-1] != (k[0], k[1]):
            chapters.append((k[0], k[1]))
    split_of = {}
    held = 0
    for i, ch in enumerate(chapters):
        if i % HOLDOUT_EVERY == HOLDOUT_OFFSET:
            split_of[ch] = "dev" if held % 2 == 0 else "test"
            held += 1
        else:
            split_of[ch] = "train"
    return split_of


LEAK_RE = re.compile(r"[<>{}\[\]\t]|&[A-Za-z#0-9]+;")


def main(argv):
    if len(argv) != 4:
        sys.stderr.write("usage: bible_extract.py EN.imp ES.imp OUTDIR\n")
        return 2
    try:
        en, en_order = load(argv[1])
        es, es_order = load(argv[2])
    except (OSError, UnicodeDecodeError, ValueError) as e:
        sys.stderr.write(f"bible_extract: {e}\n")
        return 1
    strip_colophons(es, es_order)
    lower_drop_caps(es)
    outdir = argv[3]
    keys, dropped = align(en, en_order, es, es_order)
    if len(keys) < 20000:
        sys.stderr.write(f"bible_extract: only {len(keys)} aligned verses (expected ~31000); "
                         "are the modules complete?\n")
        return 1
    for k in keys:
        for lang, text in (("en", en[k]), ("es", es[k])):
            if LEAK_RE.search(text):
                sys.stderr.write(f"bible_extract: markup survived cleaning in {lang} "
                                 f"{k[0]} {k[1]}:{k[2]}: {text[:200]!r}\n"
                                 "fix clean() in tools/bible_extract.py for this markup\n")
                return 1

    split_of = split_chapters(keys)

    files = {}
    try:
        for split in ("train", "dev", "test"):
            for ext in ("en", "es", "keys"):
                name = f"{ext}.{split}" if ext == "keys" else f"{split}.{ext}"
                files[(split, ext)] = open(f"{outdir}/{name}", "w", encoding="utf-8", newline="\n")
        counts = {"train": 0, "dev": 0, "test": 0}
        nchap = {"train": set(), "dev": set(), "test": set()}
        for k in keys:
            split = split_of[(k[0], k[1])]
            files[(split, "en")].write(en[k] + "\n")
            files[(split, "es")].write(es[k] + "\n")
            files[(split, "keys")].write(f"{k[0]} {k[1]}:{k[2]}\n")
            counts[split] += 1
            nchap[split].add((k[0], k[1]))
    finally:
        for f in files.values():
            f.close()
    en_only = sum(1 for k in en if k not in es)
    es_only = sum(1 for k in es if k not in en)
    print(f"bible_extract: {len(en)} non-empty English verses, {len(es)} Spanish, "
          f"{en_only} only in English, {es_only} only in Spanish; {len(keys) + dropped} shared, "
          f"{dropped} of them dropped as suspect (versification, length ratio), {len(keys)} pairs kept")
    for split in ("train", "dev", "test"):
        print(f"bible_extract: {split}: {counts[split]} pairs from {len(nchap[split])} chapters")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
