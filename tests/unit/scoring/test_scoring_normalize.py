from crisiswatch.scoring.normalize import normalize, to_simplified


def test_repost_chain_keeps_own_words_apart():
    n = normalize("说得对，太气人了 //@张三:这家店卖过期面包 //@李四:真的吗")
    assert n.own == "说得对,太气人了"
    assert "过期面包" in n.chain and "真的吗" in n.chain
    assert "张三" not in n.chain and "李四" not in n.chain


def test_bare_repost_has_no_own_words():
    n = normalize("转发微博 //@某媒体:某品牌门店发生火灾")
    assert n.own == ""
    assert n.chain == "某品牌门店发生火灾"


def test_reply_prefix_and_mentions_removed():
    n = normalize("回复@王五:你说的不对 @赵六 看看这个")
    assert "王五" not in n.own and "赵六" not in n.own
    assert "你说的不对" in n.own


def test_markup_topics_and_links():
    n = normalize("{%#周末去哪儿#%}今天天气很好 {%网页链接%} {%北京·朝阳公园%}")
    assert "网页链接" not in n.own
    assert "周末去哪儿" in n.own and "#" not in n.own
    assert "朝阳公园" in n.own


def test_urls_removed():
    n = normalize("看这里 http://t.cn/A6abcdE 还有 https://example.com/a?b=1 完")
    assert "http" not in n.own and "t.cn" not in n.own
    assert n.own == "看这里 还有 完"


def test_emoticons_and_emoji_pulled_out():
    n = normalize("又迟到了[怒][怒]😡 真是的[doge]")
    assert n.emoticons == ("[怒]", "[怒]", "[doge]", "😡")
    assert "[" not in n.own and "😡" not in n.own


def test_full_width_case_and_repeats():
    n = normalize("ＡＢＣ手机１２３，哈哈哈哈哈哈哈")
    assert n.own.startswith("abc手机123")
    assert n.own.endswith("哈哈哈") and "哈哈哈哈" not in n.own


def test_traditional_is_converted():
    assert to_simplified("這個產品質量太差了") == "这个产品质量太差了"
    assert normalize("服務態度很差，還亂收費").own == "服务态度很差,还乱收费"


def test_simplified_text_is_unchanged():
    text = "这个产品质量不错"
    assert to_simplified(text) is text


def test_empty_and_whitespace():
    for raw in ("", None, "   ", "\n\t"):
        n = normalize(raw)
        assert n.is_empty and n.chain == ""


def test_emoji_only_post():
    n = normalize("😭😭[泪]")
    assert n.own == ""
    assert not n.is_empty
    assert set(n.emoticons) == {"😭", "[泪]"}
