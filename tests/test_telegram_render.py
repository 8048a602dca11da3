"""Reply -> Telegram HTML and keyboards: escaping, links, the 4,096 limit, 64-byte callback data."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from adapters.telegram_render import (
    CALLBACK_LIMIT,
    TEXT_LIMIT,
    Piece,
    Press,
    choice_data,
    document_messages,
    entry_data,
    feedback_data,
    keyboard,
    pack,
    parse_press,
    render,
    size,
    split_text,
    without_choices,
    without_feedback,
)
from bot.model import Block, Choice, Document, Expansion, Reply, Source, Suggestion

ALLOWED_TAGS = {"b", "i", "a"}


class TagChecker(HTMLParser):
    """Fails on any tag Telegram would not accept or that is left open / closed twice."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in ALLOWED_TAGS, f"unexpected <{tag}>"
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack.pop() == tag, f"unbalanced </{tag}>"


def assert_valid_html(chunk: str) -> None:
    checker = TagChecker()
    checker.feed(chunk)
    checker.close()
    assert checker.stack == [], f"unclosed {checker.stack}"
    # every & starts an entity: no raw ampersand, no entity cut in half
    assert not re.search(r"&(?!(amp|lt|gt|quot|#x27);)", chunk), chunk


def reply(*blocks: Block, **fields: object) -> Reply:
    return Reply(kind="answer", lang="fr", blocks=blocks, **fields)  # type: ignore[arg-type]


def test_markup_in_text_is_escaped_not_interpreted() -> None:
    chunks = render(reply(Block("paragraph", "<b>gras</b> & <script>alert(1)</script>"),
                          Block("heading", "Frais < 5 % & plus"),
                          Block("list", items=("<a href='x'>lien</a>", "A&B"))))
    text = "\n".join(chunks)
    assert "&lt;b&gt;gras&lt;/b&gt; &amp; &lt;script&gt;" in text
    assert "<b>Frais &lt; 5 % &amp; plus</b>" in text
    assert "• &lt;a href='x'&gt;lien&lt;/a&gt;" in text
    assert "• A&amp;B" in text
    for chunk in chunks:
        assert_valid_html(chunk)


def test_blocks_get_light_formatting() -> None:
    html = render(reply(Block("heading", "Titre"), Block("note", "Remarque"),
                        Block("steps", items=("un", "deux")), Block("paragraph", "Texte")))[0]
    assert html == "<b>Titre</b>\n\n<i>Remarque</i>\n\n1. un\n2. deux\n\nTexte"


def test_sources_become_links_and_review_date_is_shown() -> None:
    html = render(reply(Block("paragraph", "Réponse"),
                        sources=(Source('P2B "règlement" <UE>', "https://eur-lex.europa.eu/?a=1&b=2"),
                                 Source("Bizarre", "javascript:alert(1)")),
                        reviewed="2026-11-27"))[0]
    assert '<a href="https://eur-lex.europa.eu/?a=1&amp;b=2">P2B "règlement" &lt;UE&gt;</a>' in html
    assert "javascript" not in html.split("<a ")[-1].split(">")[0]  # never an href
    assert "• Bizarre (javascript:alert(1))" in html
    assert "<i>Vérifié le 27 novembre 2026</i>" in html
    assert_valid_html(html)


def test_empty_reply_sends_nothing() -> None:
    assert render(reply()) == []


def test_long_reply_is_split_on_paragraphs_within_4096() -> None:
    paragraph = "Une phrase assez longue sur la charte & le règlement P2B. " * 30  # ~1,800 chars
    blocks = [Block("paragraph", f"{n} {paragraph}") for n in range(6)]
    chunks = render(reply(*blocks))
    assert len(chunks) > 1
    assert all(size(c) <= TEXT_LIMIT for c in chunks)
    for chunk in chunks:  # each chunk is made of whole paragraphs
        assert all(part.split(" ", 1)[0].isdigit() for part in chunk.split("\n\n"))
        assert_valid_html(chunk)
    assert sum(c.count("Une phrase") for c in chunks) == 6 * 30


def test_oversized_paragraph_splits_by_words_keeping_tags_and_entities() -> None:
    hostile = ("<b>&amp;</b> " * 3000).strip()  # 35,000 characters, escape grows it further
    chunks = render(reply(Block("note", hostile)))
    assert len(chunks) >= 10
    for chunk in chunks:
        assert size(chunk) <= TEXT_LIMIT
        assert chunk.startswith("<i>") and chunk.endswith("</i>")
        assert_valid_html(chunk)
    words = " ".join(c.removeprefix("<i>").removesuffix("</i>") for c in chunks).split()
    assert words == ["&lt;b&gt;&amp;amp;&lt;/b&gt;"] * 3000


def test_a_word_longer_than_a_message_is_cut_without_breaking_entities() -> None:
    chunks = render(reply(Block("paragraph", "&" * 20000)))
    assert all(size(c) <= TEXT_LIMIT for c in chunks)
    assert "".join(chunks).count("&amp;") == 20000
    for chunk in chunks:
        assert_valid_html(chunk)


def test_emoji_count_as_two_units() -> None:
    parts = split_text("😀" * 3000, 4096)
    assert [len(p) for p in parts] == [2048, 952]


def test_long_list_item_keeps_its_bullet_once() -> None:
    parts = Piece("mot " * 2000, prefix="• ").parts(1000)
    assert parts[0].startswith("• ")
    assert not any(p.startswith("• ") for p in parts[1:])
    assert all(size(p) <= 1000 for p in parts)


def test_pack_keeps_whole_paragraphs_together() -> None:
    paras = [[Piece("a" * 3000)], [Piece("b" * 3000)], [Piece("c" * 10)]]
    assert [len(c) for c in pack(paras)] == [3000, 3012]


def test_keyboard_has_suggestions_then_thumbs() -> None:
    markup = keyboard(reply(Block("paragraph", "x"), entry="charter-what", feedback=True,
                            suggestions=(Suggestion("charter-signatories", "Les signataires"),)))
    assert markup is not None
    rows = [[(b.text, b.callback_data) for b in row] for row in markup.inline_keyboard]
    assert rows == [[("Les signataires", "e:fr:charter-signatories")],
                    [("👍", "f:+:charter-what"), ("👎", "f:-:charter-what")]]


def test_no_keyboard_without_buttons() -> None:
    assert keyboard(reply(Block("paragraph", "x"))) is None
    assert keyboard(reply(Block("paragraph", "x"), entry="hello", feedback=False)) is None


def test_callback_data_never_exceeds_64_bytes() -> None:
    long_id = "é" * 40  # 80 bytes in UTF-8, 40 characters
    assert entry_data(long_id, "fr") is None
    assert feedback_data("x" * 61, True) is None
    assert feedback_data("x" * 60, True) == "f:+:" + "x" * 60  # exactly 64 bytes
    ok = "x" * 59
    assert entry_data(ok, "en") == f"e:en:{ok}" and len(f"e:en:{ok}".encode()) == CALLBACK_LIMIT
    markup = keyboard(reply(Block("paragraph", "x"), entry=long_id, feedback=True,
                            suggestions=(Suggestion(long_id, "trop long"), Suggestion("ok", "ok"))))
    assert markup is not None
    datas = [b.callback_data for row in markup.inline_keyboard for b in row]
    assert datas == ["e:fr:ok"]


def test_parse_press_round_trips_and_rejects_junk() -> None:
    assert parse_press("e:en:problem-fees") == Press("problem-fees", lang="en")
    assert parse_press(entry_data("problem-fees", "fr")) == Press("problem-fees", lang="fr")
    assert parse_press("e:problem-fees") == Press("problem-fees")  # language left to the core
    up, down = parse_press("f:+:charter-what"), parse_press("f:-:charter-what")
    assert up is not None and up.useful is True and up.entry == "charter-what"
    assert down is not None and down.useful is False
    for junk in (None, "", "e:", "e:de:x", "e:fr:", "f:", "f:?:x", "f:+:", "zzz"):
        assert parse_press(junk) is None


def test_without_feedback_drops_only_the_thumbs() -> None:
    markup = keyboard(reply(Block("paragraph", "x"), entry="a", feedback=True,
                            suggestions=(Suggestion("b", "B"),)))
    kept = without_feedback(markup)
    assert kept is not None
    assert [[b.callback_data for b in row] for row in kept.inline_keyboard] == [["e:fr:b"]]
    assert without_feedback(keyboard(reply(Block("paragraph", "x"), entry="a",
                                           feedback=True))) is None


# -- the case builder's choices and papers ---------------------------------------------------------
def test_choices_two_per_row_long_labels_alone_then_the_rest() -> None:
    choices = (Choice("Amazon", "p:Amazon"), Choice("eBay", "p:eBay"),
               Choice("Hausse de frais ou de conditions", "k:fees"),
               Choice("Rakuten", "p:Rakuten"), Choice("Annuler", "cancel"),
               Choice("Etsy", "p:Etsy"))
    markup = keyboard(Reply(kind="case", lang="en", blocks=(), choices=choices))
    assert markup is not None
    rows = [[(b.text, b.callback_data) for b in row] for row in markup.inline_keyboard]
    assert rows == [[("Amazon", "c:en:p:Amazon"), ("eBay", "c:en:p:eBay")],
                    [("Hausse de frais ou de conditions", "c:en:k:fees")],
                    [("Rakuten", "c:en:p:Rakuten"), ("Annuler", "c:en:cancel")],
                    [("Etsy", "c:en:p:Etsy")]]


def test_an_answers_case_button_sits_between_its_details_and_thumbs() -> None:
    answer = reply(Block("paragraph", "x"), entry="problem-closure", feedback=True,
                   more=(Expansion("steps", "Étapes"),),
                   choices=(Choice("Préparer ma réclamation", "new|closure|Amazon|2026-12-01"),))
    markup = keyboard(answer)
    assert markup is not None
    rows = [[b.callback_data for b in row] for row in markup.inline_keyboard]
    assert rows == [["m:fr:steps:problem-closure"], ["c:fr:new|closure|Amazon|2026-12-01"],
                    ["f:+:problem-closure", "f:-:problem-closure"]]
    kept = without_choices(markup)
    assert kept is not None
    assert [[b.callback_data for b in row] for row in kept.inline_keyboard] == [
        ["m:fr:steps:problem-closure"], ["f:+:problem-closure", "f:-:problem-closure"]]
    question = keyboard(Reply(kind="case", lang="fr", blocks=(), choices=(Choice("Oui", "ok"),)))
    assert without_choices(question) is None


def test_choice_data_fits_64_bytes_and_round_trips() -> None:
    fits = "new|counterfeit-accused|" + "x" * 29  # 53 bytes + "c:fr:" = 58
    assert parse_press(choice_data(fits, "fr")) == Press("", lang="fr", answer=fits)
    assert parse_press("c:en:d:today") == Press("", lang="en", answer="d:today")
    assert choice_data("x" * 59, "fr") is not None and choice_data("x" * 60, "fr") is None
    markup = keyboard(Reply(kind="case", lang="fr", blocks=(),
                            choices=(Choice("Trop long", "x" * 60), Choice("Oui", "ok"))))
    assert markup is not None
    assert [b.callback_data for row in markup.inline_keyboard for b in row] == ["c:fr:ok"]
    for junk in ("c:", "c:fr:", "c:de:ok", "c:ok"):
        assert parse_press(junk) is None


def test_a_paper_is_sent_under_its_title_escaped_and_cut_to_the_limit() -> None:
    text = "Objet : <réclamation> & suite\n\n- P2B art. 4\n- DSA art. 17\n\n" + "mot " * 3000
    paper = Document("complaint", "Réclamation à la plateforme", text, "reclamation-x.docx")
    chunks = document_messages(paper)
    assert len(chunks) > 1 and all(size(c) <= TEXT_LIMIT for c in chunks)
    assert chunks[0].startswith("<b>Réclamation à la plateforme</b>\n\n")
    assert "Objet : &lt;réclamation&gt; &amp; suite" in chunks[0]
    assert "• P2B art. 4\n• DSA art. 17" in chunks[0]
    for chunk in chunks:
        assert_valid_html(chunk)
    assert " ".join(chunks).count("mot") == 3000
