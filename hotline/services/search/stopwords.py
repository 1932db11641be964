"""The words that say nothing about what a message is about, one list for every feature that
weighs a text's words: the hotspots (`hotspot_clustering`) and the knowledge matches
(`knowledge_index`). Two lists had grown apart (issue 16): a word found to mislead one feature
misled the other too."""

from __future__ import annotations

# Function words, and how every message to a hotline is phrased (requests, greetings, the
# government's own names); a few English ones for texts typed in English.
STOP_WORDS = frozenset(
    """
    的 了 是 我 你 他 她 它 们 我们 你们 他们 在 有 和 与 及 或 就 不 也 都 很 还 又 再 把 被 让 给 向 对 从 到 为 以 而 但 但是 并 并且 且 因为 所以 如果 虽然 由于
    因此 于是 然后 而且 以及 之 其 此 这 那 这个 那个 这些 那些 这样 那样 这里 那里 什么 怎么 怎么办 怎样 如何 为什么 哪 哪里 谁 吗 呢 吧 啊 呀 哦 嘛 么 着 过 得 地 个 些 一
    一个 一些 一直 一下 一次 没有 没 无 能 能否 可以 可 会 要 想 应该 应当 需要 必须 是否 已经 已 曾经 正在 将 将要 就是 还是 只是 只 才 都是 不是 有的 有些 所有 每 各 各种 等
    等等 非常 十分 特别 比较 太 更 最 多 很多 许多 大量 严重 现在 目前 当前 今天 昨天 明天 今年 去年 每天 时候 时间 期间 之前 以前 之后 以后 后来 最近 近期 日 月 年 号 点 反映
    反应 投诉 举报 咨询 建议 请求 要求 希望 恳请 请 麻烦 帮助 帮忙 解决 处理 落实 调查 核实 回复 答复 关注 重视 相关 有关 部门 相关部门 有关部门 政府 领导 单位 工作人员 市民 群众
    居民 本人 来电 来信 留言 您好 你好 尊敬 谢谢 感谢 问题 情况 事情 事 现象 影响 造成 导致 出现 存在 进行 得到 没人 无人 至今 仍然 依然 市 区 县 请问 哪儿 我家 a an the
    is are was be to of in on at for and or my our i we you it do does can how what where when why which with
    from this that there please
    """.split()  # noqa: SIM905 (a list of 250 quoted words would be unreadable)
)
# Words any message may hold whatever it is about: generic verbs (办理, 报告), how often or how
# long (连续, 上个月), the citizen's own words for who they are (村民), purposes and topics (为了,
# 关于), the city's name for itself (本市), the parts of any address (路, 栋). They made hotspots
# named "新城区 办理 报告 关于", and a streetlight call was offered the article on night
# construction noise for the word 连续 alone (issue 16).
GENERIC_WORDS = frozenset(
    """
    办理 办 报告 关于 为了 对于 通过 按照 根据 经过 开展 实施 提出 提供 提交 申请 申报 发现 知道 告诉 表示 认为 觉得 看到 听说 发生 使用 采取 给予 予以 开始 继续 完成 收到 答应
    同意 不能 不会 不了 不到 一样 这种 那种 其中 以上 以下 上述 如下 该 此事 本 本市 本区 本县 本镇 本村 我市 我区 我县 我镇 我村 该市 村民 村里 老百姓 百姓 大家 自己 家里 我们家
    本地 当地 外地 有人 别人 他人 我方 对方 方面 工作 相关人员 事宜 一事 事件 具体 一下子 怎么回事 为何 何时 多久 多长时间 还有 还要 并未 没能 无法 不予 未能 参加 参与 人民 上个月
    下个月 本月 上周 本周 这周 上次 这次 多次 几次 好几次 屡次 再次 每次 一直都 经常 总是 近日 日前 今日 当天 当时 此前 先后 期间内 原文 追问 负责 检查 路 街 巷 弄 栋 幢 楼 层 室
    单元 号楼 组 连续 持续 反复 附近 周边 旁边 门口 尽快 及时 马上 立即 赶紧 一定
    """.split()  # noqa: SIM905
)
LEFT_OUT = STOP_WORDS | GENERIC_WORDS
