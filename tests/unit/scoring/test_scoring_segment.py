from hypothesis import given, settings
from hypothesis import strategies as st

from crisiswatch.scoring import segment

# Characters jieba's dictionary knows well, plus Latin, digits, spaces and punctuation.
ALPHABET = (
    "鲜味坊的菜很好吃不太难今天天气真错服务态度差了我们去公园散步手机质量问题abcXYZ019 ,.!?，。！？%#&-_\n"
)
SENTENCES = [
    "今天天气真不错，我们去公园散步吧",
    "这家店的服务态度太差了！！！",
    "iPhone15的电池续航一般般，充电10分钟",
    "南京市长江大桥",
    "a b  c\r\nd",
    "",
]


def _jieba():
    return segment.tokenizer()


def test_fast_cut_matches_jieba_on_sentences():
    tk = _jieba()
    for text in SENTENCES:
        assert segment.fast_cut(text, tk.FREQ, tk.total) == tk.lcut(text, HMM=False)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=60))
def test_fast_cut_matches_jieba_on_any_text(text):
    tk = _jieba()
    assert segment.fast_cut(text, tk.FREQ, tk.total) == tk.lcut(text, HMM=False)


def test_dictionary_add_word_is_jiebas():
    d = segment.Dictionary({"好": 5}, 5)
    d.add_word("好吃的鲜味坊", 7)
    assert d.total == 12
    assert d.FREQ["好吃的鲜味坊"] == 7 and d.FREQ["好吃的"] == 0 and d.FREQ["好"] == 5


def test_cut_empty():
    assert segment.cut("") == []
