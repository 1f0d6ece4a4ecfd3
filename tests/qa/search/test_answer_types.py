"""The answer-type bonus and the label test of the fusion."""

from qa.search.answer_types import answer_type_bonus, is_label


def test_answer_type_bonus_marks_numbers_for_how_many() -> None:
    bonus = answer_type_bonus("有多少家企业？", ["园区有企业120家。", "园区环境优美。"])
    assert list(bonus) == [1.0, 0.0]
    assert not answer_type_bonus("园区在哪里？", ["园区有企业120家。"]).any()


def test_labels_are_short_lines_without_closing_punctuation() -> None:
    assert is_label("专栏3  生产性服务业专业特色楼宇布局")
    assert not is_label("园区有企业120家。")
    assert not is_label("这是一个没有句号但是很长很长很长很长很长很长很长很长很长很长很长很长的句子")


def test_a_time_question_marks_dates_and_a_plain_question_marks_nothing() -> None:
    texts = ["方案于2024年11月25日印发。", "方案共有三章。"]
    assert list(answer_type_bonus("这份方案是哪一天印发的？", texts)) == [1.0, 0.0]
    assert list(answer_type_bonus("When was the plan issued?", texts)) == [1.0, 0.0]
    assert not answer_type_bonus("方案的目标是什么？", texts).any()
