"""The question-word anchors of a Chinese question and the sentences that repeat them."""

from __future__ import annotations

from qa.search.anchors import ANCHOR_FEATURES, LONGEST, anchor_row, question_anchors
from qa.text import fold

ASKING = frozenset("什么哪谁吗呢多少几是的了在有为何怎样如请问么个")


def row(question: str, sentence: str) -> dict[str, float]:
    return dict(zip(ANCHOR_FEATURES, anchor_row(question_anchors(fold(question), ASKING), fold(sentence)), strict=True))


def test_the_anchors_are_the_words_either_side_of_the_question_word() -> None:
    anchors = question_anchors(fold("该公司于哪一年成立？"), ASKING)
    assert (anchors.left, anchors.right) == ("该公司于", "年成立")
    anchors = question_anchors(fold("梦想小街的税收是多少呢？"), ASKING)
    assert (anchors.left, anchors.right) == ("梦想小街的税收是", "")


def test_a_sentence_with_the_answer_between_the_anchors_has_a_slot() -> None:
    found = row("该公司于哪一年成立？", "该公司于1998年成立，总部设在北京。")
    assert found["anchor_left"] == 4 and found["anchor_right"] == 3
    assert found["anchor_share"] == 1.0
    assert found["anchor_slot"] == len("1998")
    assert 0 < found["pair_cover"] < 1  # the pairs across the question word are not in the sentence


def test_a_sentence_repeating_only_part_of_an_anchor_scores_that_part() -> None:
    found = row("该公司于哪一年成立？", "公司于次月迁往上海。")
    assert found["anchor_left"] == 3 and found["anchor_right"] == 0
    assert found["anchor_slot"] == -1.0  # no right anchor, no slot


def test_anchors_in_the_wrong_order_or_far_apart_give_no_slot() -> None:
    assert row("该公司于哪一年成立？", "年成立的还有该公司于")["anchor_slot"] == -1.0
    far = "该公司于" + "很" * 40 + "年成立"
    assert row("该公司于哪一年成立？", far)["anchor_slot"] == -1.0


def test_the_nearest_pair_of_occurrences_is_the_slot() -> None:
    text = "该公司于上海设厂，后来该公司于2001年成立分部"
    assert row("该公司于哪一年成立？", text)["anchor_slot"] == len("2001")


def test_a_question_without_a_question_word_or_han_characters_scores_nothing() -> None:
    assert row("How many engineers does the plant employ?", "电站雇用了45名工程师。") == {
        "anchor_left": 0.0,
        "anchor_right": 0.0,
        "anchor_share": 0.0,
        "anchor_slot": -1.0,
        "pair_cover": 0.0,
    }


def test_long_anchors_are_cut_to_the_longest_looked_for() -> None:
    question = "一" * 30 + "是什么"
    assert len(question_anchors(question, ASKING).left) == LONGEST
