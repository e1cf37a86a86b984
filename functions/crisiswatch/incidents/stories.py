"""Stories: the posts of one watch that tell the same thing, on any platform.

A watch can follow several stories at once. A post joins a story through its repost chain
(`Post.repost_of`) or because its text is a near-duplicate of the text that founded the story (a copy
on another platform, a pasted rumour with a word changed, the same press release on two sites).

The fingerprint is a b-bit MinHash (Li and König, 2010) of the text's character 3-shingles (Chinese
has no spaces): 8 independent min-hashes, each cut to its lowest 8 bits, in one 64-bit integer. Two
texts agree on a lane with a probability close to the Jaccard similarity of their shingle sets, so the
number of lanes that differ (`hamming`) measures how much of the text changed.

A 64-bit SimHash was the first plan; it does not work on posts this short. It keeps the angle between
the two texts' shingle vectors (a bit flips with probability angle/pi), and one changed character
in a 60-character post already moves that angle by about 7 of 64 bits, far past any threshold that
the 4-block index can find. Measured on the 52 complaints of tests/unit/incidents/
test_story_grouping.py (40 random edits of each, and their 1,326 pairs), then on the 3,291 source
posts of THU's CED Weibo rumour set (5.4 M pairs)::

                                       SimHash, <= 3 of 64 bits   MinHash, <= 3 of 8 lanes
    one character edited, ~58 chars    11% found                  99.8% found
    two characters edited, ~58 chars    2%                        96.8%
    two characters edited, ~33 chars    1%                        86%
    prefix and suffix added, ~58 chars 12%                        99.5%
    unrelated complaints               none closer than 19 bits   none closer than 6 lanes
    CED pairs matched                  287                        1,416 (the 287 among them)

The CED matches are the same rumour copied or rewritten (the least similar shares 22% of its
shingles: two write-ups of one fake death). The false matches are short texts that share a phrase:
16 of the 30 M pairs of 7,742 food-delivery reviews of 12-22 characters ("等了一个半小时"), about
one review in 250. 16 lanes with <= 7 differing in 8 blocks found 95-100% of the edits above with
no such false match, at twice the band reads and writes; the shape below is the cheaper one.

`NEAR_DUPLICATE_LANES` = 3 of 8 lanes, and the index keeps a story's founding fingerprint under its
four 16-bit blocks of two lanes (`band_keys`): fingerprints that differ in at most 3 lanes leave at
least one block untouched (pigeonhole), so a near-duplicate is always found by an exact lookup of
its 4 blocks, and then checked on the whole fingerprint.

Posts whose normalized text is shorter than `MIN_CHARS` get no fingerprint: "太恶心了" is not a
story. They join stories through their repost chain only.

No datasketch: its package __init__ imports its LSH module, which imports scipy (100+ MB), and that
would have to go into the scorer's Lambda layer for what is 15 lines here.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache

from crisiswatch.ports import Clock, PostRepository, StoryIndex
from crisiswatch.scoring.normalize import normalize
from crisiswatch.vocabulary import Post

SHINGLE_CHARS = 3
MIN_CHARS = 12  # of normalized text (letters and digits only): shorter texts get no fingerprint
MAX_CHARS = 1_000  # long posts (pushed ones may hold 20,000 characters) are compared on their opening
LANES = 8  # min-hashes in a fingerprint, 8 bits each
NEAR_DUPLICATE_LANES = 3  # at most this many lanes differ between near-duplicates
BANDS = 4  # blocks of LANES // BANDS lanes: NEAR_DUPLICATE_LANES + 1 of them, for the pigeonhole
_BAND_BITS = 8 * LANES // BANDS

POST_PREFIX = "p:"  # index keys: "p:<post key>" -> story id; "b<i>:<hex>" -> "<story id>|<fingerprint hex>"
_REPOST_BOILERPLATE = re.compile(r"转发微博|轉發微博")


def comparable_text(text: str) -> str:
    """What fingerprints compare: the author's own words normalized (NFKC, lower case, Simplified,
    no URLs, @mentions, [emoticon] codes or emoji; see crisiswatch.scoring.normalize), without
    "转发微博", whitespace or punctuation. A bare repost is compared on the words it quotes."""
    normalized = normalize(text[: 4 * MAX_CHARS])
    words = _REPOST_BOILERPLATE.sub("", normalized.own or normalized.chain)
    return "".join(c for c in words if unicodedata.category(c)[0] in "LN")[:MAX_CHARS]


def fingerprint(text: str) -> int | None:
    """See `_fingerprint`; the texts a scorer sees repeat (copies, bare reposts, chatter), so the
    short ones are remembered (bounded like the scorer's own text cache)."""
    return _cached_fingerprint(text) if len(text) <= FINGERPRINT_CACHE_MAX_CHARS else _fingerprint(text)


def _fingerprint(text: str) -> int | None:
    """The 64-bit b-bit MinHash of the text's character 3-shingles; None for a text too short to be
    a reliable signal (fewer than MIN_CHARS letters and digits)."""
    chars = comparable_text(text)
    if len(chars) < MIN_CHARS:
        return None
    shingles = {chars[i : i + SHINGLE_CHARS] for i in range(len(chars) - SHINGLE_CHARS + 1)}
    # One 64-byte digest per shingle is 8 independent 64-bit hashes (blake2b: stable across
    # processes, unlike hash()). Equal-length bytes compare like big-endian numbers.
    digests = [hashlib.blake2b(s.encode(), digest_size=8 * LANES).digest() for s in shingles]
    fp = 0
    for lane in range(LANES):
        lowest = min(d[8 * lane : 8 * lane + 8] for d in digests)
        fp = (fp << 8) | lowest[-1]
    return fp


FINGERPRINT_CACHE, FINGERPRINT_CACHE_MAX_CHARS = 4096, 1000
_cached_fingerprint = lru_cache(maxsize=FINGERPRINT_CACHE)(_fingerprint)


def hamming(a: int, b: int) -> int:
    """How many of the 8 one-byte lanes differ (the Hamming distance over lanes, not over bits)."""
    return LANES - (a ^ b).to_bytes(LANES, "big").count(0)


def band_keys(fp: int) -> list[str]:
    """The fingerprint's 4 blocks of 16 bits, as index keys: ["b0:1a2f", "b1:...", ...]."""
    mask = (1 << _BAND_BITS) - 1
    return [f"b{i}:{(fp >> (_BAND_BITS * (BANDS - 1 - i))) & mask:0{_BAND_BITS // 4}x}" for i in range(BANDS)]


def story_id(watch_id: str, founder_key: str) -> str:
    """The id of the story that the post `founder_key` founds in this watch: the same on every
    delivery, and different in each watch that counts the post."""
    digest = hashlib.blake2b(f"{watch_id}\n{founder_key}".encode(), digest_size=6).hexdigest()
    return f"s-{digest}"


def original_key(post: Post) -> str | None:
    """The post key of what `post` reposts. The Weibo adapter fills `repost_of` with a post key
    ("weibo#<root id>"); a provider that pushes posts may send the bare id of an original on the
    same platform ("4890..."), which is read as `<post.platform>#<id>`."""
    if not post.repost_of:
        return None
    return post.repost_of if "#" in post.repost_of else f"{post.platform}#{post.repost_of}"


def _post_entry(post_key: str) -> str:
    return POST_PREFIX + post_key


class StoryAssigner:
    """Assigns each post of a batch to a story of its watch, with one read of the story index and
    one of the stored posts per batch, and at most one write of the index.

    Rules, in order: (a) a post already assigned keeps its story; (b) a repost joins the story of
    what it reposts, and a repost of an original not seen yet founds the story *of that original*
    (its id is the original's), so every repost of it and then the original itself join it; (c) a
    near-duplicate of a story's founding text (`NEAR_DUPLICATE_LANES`) joins that story, the closest
    if several; (d) any other post founds a story, whose id derives from the watch and the post key.
    Posts of one batch match each other, in order. Only a story's founding text is indexed by
    fingerprint (a post whose own key gives the story id: rule d, or an original that its reposts
    preceded), so copies are compared with the story's founder and a story cannot drift away from it.

    Where a post's story is kept: a post of the batch is stored with it (`PostRepository.stories`
    reads it back), so the index holds only what no stored post tells: the story of an original
    that its reposts preceded, and the founding fingerprints. That is one index write a story
    instead of one a post (a write unit each: the most of a post's cost after its own write).
    """

    def __init__(self, index: StoryIndex, posts: PostRepository, clock: Clock) -> None:
        self._index = index
        self._posts = posts
        self._clock = clock

    def assign(self, watch_id: str, posts: Sequence[Post]) -> dict[str, str]:
        """Post key -> story id for every post of the batch (a redelivered batch gets the same)."""
        if not posts:
            return {}
        prints = {post.key: fingerprint(post.text) for post in posts}
        in_batch = {_post_entry(post.key) for post in posts}  # kept with the posts once stored
        post_keys: set[str] = set()
        bands: set[str] = set()
        for post in posts:
            post_keys.add(post.key)
            if original := original_key(post):
                post_keys.add(original)
            if (fp := prints[post.key]) is not None:
                bands.update(band_keys(fp))
        wanted = sorted({_post_entry(key) for key in post_keys} | bands)
        known = dict(self._index.lookup(watch_id, wanted))
        # A stored post's own story wins over an index entry (one a repost wrote for its original
        # while a concurrent batch stored the original in another story): its counts are there.
        known |= {
            _post_entry(key): story for key, story in self._posts.stories(watch_id, sorted(post_keys)).items()
        }
        new: dict[str, str] = {}

        def learn(key: str, value: str) -> None:  # first writer wins, in the batch as in the index
            if key not in known:
                known[key] = value
                if key not in in_batch:
                    new[key] = value

        stories: dict[str, str] = {}
        for post in posts:
            if post.key in stories:  # the same post twice in one batch
                continue
            fp = prints[post.key]
            story = self._story_of(watch_id, post, fp, known, learn)
            stories[post.key] = story
            learn(_post_entry(post.key), story)
            if fp is not None and story == story_id(watch_id, post.key):
                for band in band_keys(fp):
                    learn(band, f"{story}|{fp:0{2 * LANES}x}")
        if new:
            self._index.remember(watch_id, new, self._clock.now())
        return stories

    @staticmethod
    def _story_of(
        watch_id: str,
        post: Post,
        fp: int | None,
        known: Mapping[str, str],
        learn: Callable[[str, str], None],
    ) -> str:
        if story := known.get(_post_entry(post.key)):
            return story
        if original := original_key(post):
            story = known.get(_post_entry(original)) or story_id(watch_id, original)
            learn(_post_entry(original), story)
            return story
        if fp is not None and (story := _nearest(fp, known)):
            return story
        return story_id(watch_id, post.key)


def _nearest(fp: int, known: Mapping[str, str]) -> str | None:
    """The story whose founding fingerprint, found under one of `fp`'s bands, is the closest
    within NEAR_DUPLICATE_LANES (the first band's on a tie)."""
    best: tuple[int, str] | None = None
    for band in band_keys(fp):
        entry = known.get(band)
        if entry is None:
            continue
        story, _, founder = entry.partition("|")
        distance = hamming(fp, int(founder, 16))
        if distance <= NEAR_DUPLICATE_LANES and (best is None or distance < best[0]):
            best = (distance, story)
    return best[1] if best else None
