"""Story grouping: the fingerprint's properties, and the assigner on the in-memory index."""

from __future__ import annotations

import itertools
import random
from datetime import timedelta

import pytest

from crisiswatch.clock import SimulatedClock
from crisiswatch.constants import STORY_TTL_DAYS
from crisiswatch.incidents.policy import counts_of
from crisiswatch.incidents.stories import (
    BANDS,
    LANES,
    NEAR_DUPLICATE_LANES,
    StoryAssigner,
    band_keys,
    fingerprint,
    hamming,
    story_id,
)
from crisiswatch.memory.store import MemoryPostRepository
from crisiswatch.memory.stories import MemoryStoryIndex
from crisiswatch.ports import ScoredPost
from tests.builders import NOW, post, score

# 61 characters, 55 once punctuation is gone.
POST = (
    "鲜味坊的外卖吃出虫子，拉肚子一晚上，打客服电话一直没人接。"
    "今天去门店理论，店长说是我们自己带进去的，这种店怎么还能开下去？"
)

# Complaints of the kind a watch sees, about different things (several about the same brand).
UNRELATED = [
    "鲜味坊的外卖吃出虫子，拉肚子一晚上，打客服电话一直没人接，这种店怎么还能开下去？",
    "在鲜味坊买的酸菜鱼里有一根头发，找店长理论反而被骂，服务态度太差了，大家避雷！",
    "昨天带孩子去鲜味坊吃饭，回家就上吐下泻，医院诊断是食物中毒，商家至今不肯道歉。",
    "鲜味坊后厨被曝用过期食材，视频里员工直接把发霉的肉切了下锅，看得我一阵恶心。",
    "美团上点的鲜味坊套餐送来全洒了，申请退款被拒，平台和商家互相推诿，投诉无门。",
    "某品牌手机充电时突然冒烟起火，差点烧到孩子，售后说是人为损坏拒绝保修，太气人了。",
    "刚买三个月的洗衣机就漏水，维修师傅上门收了两百块检测费，问题还是没解决。",
    "新买的电动车电池续航只有宣传的一半，4S店说这是正常现象，消费者就活该被骗吗？",
    "快递把我的包裹弄丢了，客服让我等七个工作日，等完又说查不到，赔偿只给五十块。",
    "这家健身房老板卷款跑路了，我刚续了两年的会员卡，几百个会员维权无门。",
    "网购的奶粉批号和官网查询的不一致，怀疑是假货，店铺客服已读不回，求扩散。",
    "酒店房间里发现隐藏摄像头，报警后前台还说我们小题大做，这家连锁酒店必须给个说法。",
    "某航空公司航班延误五个小时没有任何解释，也不安排餐食，乘客在登机口坐了一夜。",
    "培训机构收了一年学费后突然关门，老师说已经三个月没发工资了，家长们都懵了。",
    "奶茶店的珍珠里吃出塑料片，店员说是原料问题和他们无关，这样的回复太敷衍了。",
    "我在直播间买的羊毛大衣到手发现是化纤的，主播下播后链接就删了，平台也不管。",
    "小区物业费年年涨，电梯却三天两头坏，业主群里大家都在商量集体投诉。",
    "银行app转账显示成功但对方没收到，打了十几次客服电话，只会说正在核实处理。",
    "医美机构做的双眼皮术后感染，医生说是我自己护理不当，现在眼睛肿得睁不开。",
    "共享充电宝归还后一直显示未归还，被扣了九十九元押金，申诉三次都被驳回。",
    "儿童玩具里检出超标的邻苯二甲酸酯，家长们纷纷要求厂家召回全部批次产品。",
    "某连锁超市把过期的酸奶改了生产日期重新上架，被员工拍视频曝光了。",
    "网约车司机绕路多收了一倍车费，还对我言语威胁，平台只补偿了一张五元优惠券。",
    "装修公司偷工减料，墙面刷完一个月就开裂掉皮，合同上写的环保材料全是假的。",
    "在线旅游平台订的民宿到了才发现根本不存在，大半夜带着老人孩子在街头找住处。",
    "品牌官方旗舰店卖的口红和专柜颜色完全不同，客服坚称是正品，拒绝提供检测报告。",
    "游戏公司突然修改充值规则，之前买的道具全部作废，玩家要求退款却被封号。",
    "新房交付时发现墙体有裂缝，开发商说在合理范围，业主们拉横幅维权。",
    "外卖骑手在楼下偷吃顾客的餐，视频在网上疯传，平台回应称已经对骑手作出处罚。",
    "幼儿园给孩子们吃的午饭被家长拍到有变质的菜，园长解释是个别现象。",
    "某知名火锅店被曝回收顾客吃剩的锅底再次使用，门店已经被市场监管部门查封。",
    "手机系统更新后频繁死机，官方论坛上几千条投诉，厂商却迟迟没有回应。",
    "宠物医院给我家猫做绝育手术后猫就死了，医院只愿意退手术费，态度非常冷漠。",
    "运营商在我不知情的情况下开通了多项增值业务，每个月多扣几十块话费。",
    "网购的生鲜牛排解冻后有异味，商家说是正常的排酸味道，吃了之后全家都不舒服。",
    "某汽车品牌刹车失灵导致追尾事故，车主要求召回，厂家坚持是驾驶员操作失误。",
    "打车软件显示预估价三十元，下车却扣了八十多，客服说是动态调价，解释不清楚。",
    "学校食堂的饭菜又贵又难吃，还被学生拍到有蟑螂在餐台上爬，后勤处至今没有表态。",
    "某电商平台大促期间先涨价后打折，所谓的五折价格比平时还贵，消费者觉得被耍了。",
    "房东不退押金还扣了一千块清洁费，房间明明打扫得干干净净，中介也站在房东那边。",
    "保险公司理赔时百般刁难，要求提供各种材料，拖了半年还是没有赔付。",
    "高铁上有人霸座不肯让，乘务员调解了半天也没用，最后我只能站了两个小时。",
    "美容院办卡时承诺随时可退，现在要退卡却说要扣一半的手续费，明显是霸王条款。",
    "某国产护肤品被检出含有禁用的激素成分，用了半年的消费者担心皮肤受损。",
    "二手车平台卖给我的车是泡水车，检测报告却写着车况良好，现在平台拒绝退车。",
    "演唱会门票在官方平台秒空，转头黄牛就以三倍价格出售，主办方被质疑内部放票。",
    "小区门口的面包店用地沟油炸油条，被邻居举报后店门已经关了好几天。",
    "新买的空调安装后制冷效果很差，厂家派人来看了三次都说没问题，夏天根本没法用。",
    "在线教育平台自动续费扣了我三千多，取消入口藏得很深，客服一直让我等回复。",
    "连锁药店卖给老人的保健品号称能治高血压，实际上只是普通的糖果，价格却高得离谱。",
    "鲜味坊回应食品安全问题：涉事门店已停业整顿，将配合监管部门调查，并向顾客致歉。",
    "鲜味坊的新品麻辣小龙虾真不错，分量足味道好，周末还会再去，推荐给大家。",
]


def near(a: str, b: str) -> bool:
    fa, fb = fingerprint(a), fingerprint(b)
    assert fa is not None and fb is not None
    return hamming(fa, fb) <= NEAR_DUPLICATE_LANES


# --- the fingerprint ------------------------------------------------------------------------------


def test_the_fingerprint_is_stable_across_processes():
    # blake2b, never hash() (salted per process): an index written by one Lambda is read by the next.
    assert fingerprint(POST) == 0xD350C36390B5B87F


@pytest.mark.parametrize(
    "copy",
    [
        POST,
        POST.replace("，", " ").replace("。", "！！"),  # punctuation and spaces
        "@消费者协会 " + POST + "[怒][怒] http://t.cn/A6x9Zq 😡",  # mentions, emoticons, links, emoji
        "转发微博 " + POST,
        "鮮味坊的外賣吃出蟲子，拉肚子一晚上，打客服電話一直沒人接。今天去門店理論，店長說是我們自己帶進去的，這種店怎麼還能開下去？",
    ],
)
def test_what_normalization_removes_does_not_change_the_fingerprint(copy):
    assert fingerprint(copy) == fingerprint(POST)


def test_full_width_and_upper_case_letters_are_read_as_half_width_lower_case():
    assert fingerprint(POST.replace("鲜味坊", "ＸＷＦ鲜味坊")) == fingerprint(
        POST.replace("鲜味坊", "xwf鲜味坊")
    )


@pytest.mark.parametrize(
    "edited",
    [
        POST.replace("虫子", "虫了"),  # a typo
        POST.replace("鲜味坊的", "鲜味坊"),
        POST.replace("一晚上", "一整晚"),
        POST.replace("我们", "我"),
        POST.replace("门店", "店里").replace("理论", "讲理"),  # two words
        "【扩散】" + POST,
        POST + "求扩散！",
    ],
)
def test_a_light_edit_stays_a_near_duplicate(edited):
    assert near(POST, edited)


def test_nearly_every_one_or_two_character_edit_stays_a_near_duplicate():
    # Measured on this post: 60 of 61 deletions, 178 of 180 substitutions, 1,721 of 1,830 pairs of
    # deletions. MinHash is a sample: a few edits hit more lanes than the others.
    deletions = [POST[:i] + POST[i + 1 :] for i in range(len(POST))]
    substitutions = [POST[:i] + c + POST[i + 1 :] for i in range(len(POST)) for c in "的我了" if POST[i] != c]
    pairs = [
        POST[:i] + POST[i + 1 : j] + POST[j + 1 :] for i, j in itertools.combinations(range(len(POST)), 2)
    ]
    assert sum(near(POST, t) for t in deletions + substitutions) >= 0.95 * (
        len(deletions) + len(substitutions)
    )
    assert sum(near(POST, t) for t in pairs) >= 0.9 * len(pairs)


def test_unrelated_posts_are_far_apart():
    prints = [fingerprint(text) for text in UNRELATED]
    assert len(UNRELATED) >= 50 and None not in prints
    closest = min(hamming(a, b) for a, b in itertools.combinations(prints, 2))
    assert closest > NEAR_DUPLICATE_LANES + 1  # 6 of 8 lanes when measured


@pytest.mark.parametrize(
    "text",
    ["", "太恶心了[怒][怒]", "转发微博", "鲜味坊，避雷！！！ http://t.cn/A6x9Zq", "@鲜味坊官方微博 回复一下"],
)
def test_a_text_too_short_to_tell_gets_no_fingerprint(text):
    assert fingerprint(text) is None


def test_hamming_counts_the_lanes_that_differ():
    assert hamming(0, 0) == 0
    assert hamming(0x00FF, 0x0001) == 1  # one lane, however many of its bits
    assert hamming(0x0101_0000_0000_0001, 0) == 3 == hamming(0, 0x0101_0000_0000_0001)
    assert hamming(2**64 - 1, 0) == LANES


def test_band_keys_are_the_four_16_bit_blocks():
    assert band_keys(0x1A2F_0000_BEEF_0001) == ["b0:1a2f", "b1:0000", "b2:beef", "b3:0001"]


def test_fingerprints_within_the_threshold_always_share_a_band():
    assert BANDS == NEAR_DUPLICATE_LANES + 1 and LANES % BANDS == 0
    rng = random.Random(3)
    for _ in range(300):
        fp = rng.getrandbits(64)
        for lanes in itertools.combinations(range(LANES), NEAR_DUPLICATE_LANES):
            other = fp
            for lane in lanes:
                other ^= rng.randrange(1, 256) << (8 * lane)
            assert hamming(fp, other) == NEAR_DUPLICATE_LANES
            assert set(band_keys(fp)) & set(band_keys(other))


# --- the assigner ---------------------------------------------------------------------------------


class Counting:
    """The in-memory index, counting the calls the assigner makes."""

    def __init__(self, index: MemoryStoryIndex | None = None):
        self.index = index or MemoryStoryIndex()
        self.lookups: list[list[str]] = []
        self.remembered: list[dict[str, str]] = []

    def lookup(self, watch_id, keys):
        self.lookups.append(list(keys))
        return self.index.lookup(watch_id, keys)

    def remember(self, watch_id, entries, now):
        self.remembered.append(dict(entries))
        self.index.remember(watch_id, entries, now)


@pytest.fixture
def index() -> Counting:
    return Counting()


@pytest.fixture
def stored() -> MemoryPostRepository:
    return MemoryPostRepository()


@pytest.fixture
def assigner(index, stored) -> StoryAssigner:
    return StoryAssigner(index, stored, SimulatedClock(NOW))


def store(stored: MemoryPostRepository, posts, stories: dict[str, str]) -> None:
    """What the scorer does next: save the batch's posts, each with its story."""
    stored.save_all([ScoredPost(p, score(), counts_of(p, score()), stories[p.key]) for p in posts], NOW)


def repost(post_id: str, of: str, text: str = "转发微博", **overrides):
    return post(post_id, text=text, repost_of=of, **overrides)


def test_reposts_join_the_story_of_their_original(assigner):
    stories = assigner.assign("xianweifang", [post("1", text=POST), repost("2", "weibo#1")])
    later = assigner.assign("xianweifang", [repost("3", "weibo#1", text="太恶心了//@吃货小李:我也遇到过")])
    assert stories == {"weibo#1": story_id("xianweifang", "weibo#1"), "weibo#2": stories["weibo#1"]}
    assert later == {"weibo#3": stories["weibo#1"]}


def test_reposts_of_an_unseen_original_share_its_story_and_the_original_joins_it(assigner):
    first = assigner.assign("xianweifang", [repost("2", "weibo#1")])
    second = assigner.assign("xianweifang", [repost("3", "weibo#1", text="真的假的")])
    original = assigner.assign("xianweifang", [post("1", text=POST)])
    story = story_id("xianweifang", "weibo#1")
    assert first["weibo#2"] == second["weibo#3"] == original["weibo#1"] == story


def test_an_original_that_its_reposts_preceded_founds_the_text_of_its_story(assigner):
    assigner.assign("xianweifang", [repost("2", "weibo#1")])
    assigner.assign("xianweifang", [post("1", text=POST)])
    copy = assigner.assign("xianweifang", [post("BV1x", platform="bilibili", text="【扩散】" + POST)])
    assert copy["bilibili#BV1x"] == story_id("xianweifang", "weibo#1")


def test_a_pushed_repost_naming_the_bare_id_of_its_original_joins_it(assigner):
    stories = assigner.assign("xianweifang", [post("1", text=POST), repost("2", "1")])
    assert stories["weibo#2"] == stories["weibo#1"]


def test_a_near_duplicate_on_another_platform_joins_the_story(assigner):
    weibo = assigner.assign("xianweifang", [post("1", text=POST)])
    copies = assigner.assign(
        "xianweifang",
        [
            post("BV1x", platform="bilibili", text=POST.replace("虫子", "虫了") + "求扩散！"),
            post("n-77", platform="news", text="网友爆料：" + POST.replace("我们", "我")),
        ],
    )
    assert copies == {"bilibili#BV1x": weibo["weibo#1"], "news#n-77": weibo["weibo#1"]}


def test_an_unrelated_post_founds_its_own_story(assigner):
    stories = assigner.assign("xianweifang", [post(str(i), text=text) for i, text in enumerate(UNRELATED)])
    assert len(set(stories.values())) == len(UNRELATED)
    assert stories["weibo#0"] == story_id("xianweifang", "weibo#0")


def test_short_posts_join_only_through_their_repost_chain(assigner):
    stories = assigner.assign("xianweifang", [post("1", text="太恶心了[怒]"), post("2", text="太恶心了[怒]")])
    assert stories["weibo#1"] != stories["weibo#2"]


def test_posts_of_one_batch_match_each_other(assigner, index):
    stories = assigner.assign(
        "xianweifang",
        [
            repost("2", "weibo#1"),  # before its original
            post("1", text=POST),
            post("BV1x", platform="bilibili", text="【扩散】" + POST),
            post("3", text=UNRELATED[5]),
            post("1", text=POST),  # the same post twice
        ],
    )
    story = story_id("xianweifang", "weibo#1")
    assert stories == {
        "weibo#2": story,
        "weibo#1": story,
        "bilibili#BV1x": story,
        "weibo#3": story_id("xianweifang", "weibo#3"),
    }
    assert len(index.lookups) == 1 and len(index.remembered) == 1


def test_one_lookup_and_at_most_one_remember_per_batch(assigner, index, stored):
    batches = [
        [post(str(i), text=text) for i, text in enumerate(UNRELATED[:25])],
        [repost(f"r{i}", f"weibo#{i}") for i in range(25)],
        [post("BV1x", platform="bilibili", text="【扩散】" + UNRELATED[0]), post("1", text=UNRELATED[1])],
        [repost(f"r{i}", f"weibo#u{i}") for i in range(25, 30)],  # reposts of originals not seen
    ]
    for batch in batches:
        store(stored, batch, assigner.assign("xianweifang", batch))
    assert len(index.lookups) == 4
    # The batch's own posts keep their stories with them once stored: the index is written only
    # for what no stored post tells, a story's founding fingerprint and an unseen original's story.
    assert len(index.remembered) == 2
    founded = index.remembered[0]
    assert len(founded) == 25 * BANDS
    for i, text in enumerate(UNRELATED[:25]):
        story, fp = story_id("xianweifang", f"weibo#{i}"), fingerprint(text)
        assert all(founded[band] == f"{story}|{fp:016x}" for band in band_keys(fp))
    assert index.remembered[1] == {
        f"p:weibo#u{i}": story_id("xianweifang", f"weibo#u{i}") for i in range(25, 30)
    }
    assert stored.stories("xianweifang", ["weibo#r3", "bilibili#BV1x"]) == {
        "weibo#r3": story_id("xianweifang", "weibo#3"),
        "bilibili#BV1x": story_id("xianweifang", "weibo#0"),
    }


def test_a_stored_post_keeps_its_story_and_a_repost_naming_it_joins_that_story(assigner, stored):
    """A provider that pushes may name a repost's parent, itself a repost: the parent's story is
    read back from the stored parent (it is not in the index)."""
    first = [post("1", text=POST), repost("2", "1")]
    store(stored, first, assigner.assign("xianweifang", first))
    chain = assigner.assign("xianweifang", [repost("3", "2", text="//@二:转发")])
    assert chain == {"weibo#3": story_id("xianweifang", "weibo#1")}
    # A near-duplicate joined the story it did not found: it keeps it when it comes back (a hot
    # post re-queued), whatever was founded meanwhile.
    copy = [post("BV1x", platform="bilibili", text="【扩散】" + POST)]
    store(stored, copy, assigner.assign("xianweifang", copy))
    assert assigner.assign("xianweifang", copy) == {"bilibili#BV1x": story_id("xianweifang", "weibo#1")}


def test_a_stored_post_s_story_wins_over_an_index_entry_for_it(assigner, index, stored):
    """A repost in one batch wrote its original's entry while a concurrent batch stored the
    original in a story it nearly duplicates: the original and its reposts follow where it is counted."""
    index.index.remember("xianweifang", {"p:weibo#1": story_id("xianweifang", "weibo#1")}, NOW)
    store(stored, [post("1", text=POST)], {"weibo#1": "s-copied"})
    assert assigner.assign("xianweifang", [post("1", text=POST), repost("2", "weibo#1")]) == {
        "weibo#1": "s-copied",
        "weibo#2": "s-copied",
    }


def test_a_redelivered_batch_gets_the_same_stories_and_writes_nothing(assigner, index):
    batch = [
        post("1", text=POST),
        repost("2", "weibo#1"),
        repost("3", "weibo#9"),
        post("4", text=UNRELATED[3]),
    ]
    first = assigner.assign("xianweifang", batch)
    again = assigner.assign("xianweifang", batch)
    elsewhere = StoryAssigner(MemoryStoryIndex(), MemoryPostRepository(), SimulatedClock(NOW)).assign(
        "xianweifang", batch
    )
    assert again == first == elsewhere  # ids derive from post keys, not from the order of arrival
    assert len(index.lookups) == 2 and len(index.remembered) == 1  # the second delivery found everything


def test_each_watch_has_its_own_stories(assigner):
    mine = assigner.assign("xianweifang", [post("1", text=POST)])
    theirs = assigner.assign("other-brand", [post("1", text=POST, watch_id="other-brand")])
    assert mine["weibo#1"] != theirs["weibo#1"]


def test_an_empty_batch_reads_and_writes_nothing(assigner, index):
    assert assigner.assign("xianweifang", []) == {}
    assert index.lookups == [] and index.remembered == []


def test_the_memory_index_forgets_after_the_story_ttl_on_its_clock():
    clock = SimulatedClock(NOW)
    index = MemoryStoryIndex(clock)
    index.remember("xianweifang", {"p:weibo#1": "s-1"}, NOW)
    clock.advance(timedelta(days=STORY_TTL_DAYS).total_seconds() - 1)
    assert index.lookup("xianweifang", ["p:weibo#1"]) == {"p:weibo#1": "s-1"}
    clock.advance(1)
    assert index.lookup("xianweifang", ["p:weibo#1"]) == {}
    index.remember("xianweifang", {"p:weibo#1": "s-2"}, clock.now())  # expired: a new first writer
    assert index.lookup("xianweifang", ["p:weibo#1"]) == {"p:weibo#1": "s-2"}
