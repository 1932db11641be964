"""Rebuild the demo city's data files from the Teddy Cup 2020 C messages (a dev tool).

    .venv/bin/python -m hotline.demo_data.build [path/to/teddycup2020c]

Writes `categories.csv` (the category rows of the seven first-level categories
that the messages use) and `descriptions.csv` (short texts a caller might
report, with their category) next to this file. Nothing reads the source data
at run time: the demo only reads the two files written here.

The texts are the message subject plus a short excerpt of its body, cleaned:
salutations and officials' surnames dropped, sentences with personal details
(names, phone or ID numbers, contacts) left out, and the anonymised place names
("A市", "A3区") turned into "本市" and a `{district}` slot that the seeder fills
with the ticket's district. A keyword table files each text under a third-level
category where the text says clearly what it is about; the rest get a random
one under their first level when the demo is seeded. A few dozen short texts
written for the demo cover what the messages rarely mention (water, power and
gas supply, street lights, consultations) so that every department has work.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = HERE.parent.parent.parent / "shared" / "data" / "teddycup2020c"

FIRST_LEVELS = ("劳动和社会保障", "城乡建设", "教育文体", "卫生计生", "交通运输", "商贸旅游", "环境保护")

# (first level) -> [(regex on subject + excerpt, second level, third level)], first match wins.
KEYWORDS: dict[str, list[tuple[str, str, str]]] = {
    "城乡建设": [
        (r"自来水|停水|水压|水管|供水|水表", "城市建设和市政管理", "自来水供应"),
        (r"停电|供电|电压|电费|电表|用电", "城市建设和市政管理", "电力供应"),
        (r"燃气|天然气|煤气", "城市建设和市政管理", "燃气供应"),
        (r"暖气|供暖|采暖", "城市建设和市政管理", "冬季采暖"),
        (r"公交", "城市建设和市政管理", "公共汽车"),
        (r"地铁|轨道交通", "城市建设和市政管理", "地铁城铁"),
        (r"公积金", "住房保障与房地产", "住房公积金"),
        (r"物业", "住房保障与房地产", "物业服务"),
        (r"房产证|不动产|产权", "住房保障与房地产", "房产证登记、办理"),
        (r"公租房|廉租房|保障房|保障性住房", "住房保障与房地产", "保障性住房"),
        (r"开发商|楼盘|交房|购房|烂尾", "住房保障与房地产", "房地产开发管理"),
        (r"违建|违章建筑|违规搭建|私搭乱建|加建", "城乡规划", "违章建筑"),
        (r"规划", "城乡规划", "规划方案"),
        (r"棚户区|城中村", "国有土地上房屋征收与补偿", "棚户区和城中村改造"),
        (r"安置|回迁", "国有土地上房屋征收与补偿", "安置补偿"),
        (r"拆迁|征收", "国有土地上房屋征收与补偿", "房屋拆迁"),
        (r"工程款", "建筑市场", "拖欠工程款"),
        (r"招标|招投标", "建筑市场", "工程招投标"),
        (r"工地|施工", "工程质量", "施工安全"),
        (r"安全隐患", "安全生产", "安全隐患"),
        (r"路灯|井盖|人行道|下水|公厕|厕所", "城市建设和市政管理", "城市公共设施"),
        (r"垃圾|环卫|脏乱", "城市建设和市政管理", "环境卫生"),
        (r"占道|摆摊|城管|摊贩", "城市建设和市政管理", "城管执法"),
        (r"公园", "城市建设和市政管理", "公园管理"),
        (r"绿化|树木", "城市建设和市政管理", "园林绿化"),
        (r"小区", "城市建设和市政管理", "小区管理"),
        (r"道路|马路|路面", "城市建设和市政管理", "基础设施"),
    ],
    "劳动和社会保障": [
        (r"公积金", "工资福利", "住房公积金"),
        (r"新农合", "城镇居民社会保险", "新农村合作医疗"),
        (r"工伤", "城镇职工社会保险", "职工工伤保险"),
        (r"生育", "城镇职工社会保险", "职工生育保险"),
        (r"失业", "城镇职工社会保险", "职工失业保险"),
        (r"退休", "退休政策及待遇", "退休人员待遇"),
        (r"养老", "城镇职工社会保险", "职工养老保险"),
        (r"医保|医疗保险", "城镇职工社会保险", "职工医疗保险"),
        (r"欠薪|拖欠.{0,4}工资|农民工", "劳动关系", "农民工权益"),
        (r"工资|薪", "工资福利", "工资发放"),
        (r"劳动合同|辞退|解除|开除", "劳动关系", "劳动合同纠纷"),
        (r"派遣", "劳动关系", "劳务派遣纠纷"),
        (r"加班|休假|双休|休息", "劳动保护", "工作时间和休息休假"),
        (r"培训", "就业培训", "职业培训"),
        (r"就业|招聘|求职", "就业培训", "就业和再就业"),
        (r"社保", "城镇职工社会保险", "其他"),
    ],
    "教育文体": [
        (r"幼儿园", "教育体制", "教育资源配置"),
        (r"乱收费|收费|补课费|学费", "教育收费", "乱收费"),
        (r"招生|入学|学位|报名|划片", "考试招生", "招生录取"),
        (r"培训机构|辅导班|培训班", "教育行政管理", "校外机构管理"),
        (r"补课|作业|负担|放学|课时", "教育行政管理", "学生负担"),
        (r"教师|老师", "教师队伍和待遇", "师资力量"),
        (r"学籍|学历|毕业证", "教育行政管理", "学历学位学籍管理"),
        (r"校园|食堂|安全", "教育行政管理", "校园安全"),
        (r"体育|健身|球场|运动", "体育", "体育事业"),
        (r"文物|古建|遗址", "文物管理", "文物保护"),
        (r"图书馆|文化|广场舞|博物馆", "文化", "公共文化"),
    ],
    "卫生计生": [
        (r"独生子女", "人口计生", "独生子女父母奖励政策"),
        (r"计生|计划生育|二胎|二孩", "人口计生", "计划生育服务管理"),
        (r"食品|餐馆|饭店|外卖|餐饮", "食品药品监管", "食品安全"),
        (r"保健品|化妆品", "食品药品监管", "保健品化妆品管理"),
        (r"药", "食品药品监管", "药品和医疗器械管理"),
        (r"疫苗|传染|疫情|防疫", "公共卫生", "疾病预防控制"),
        (r"诊所|非法行医|游医|无证", "医政监管", "非法行医"),
        (r"收费|费用", "医政监管", "医疗收费"),
        (r"医疗事故|误诊|死亡", "医患纠纷", "医疗事故争议"),
        (r"医院|医生|就诊|看病|挂号", "医政监管", "医疗技术和服务"),
    ],
    "交通运输": [
        (r"网约车|滴滴", "出租车管理", "网约车问题"),
        (r"出租车|的士|的哥", "出租车管理", "行业监管"),
        (r"快递|邮政|包裹", "邮政管理", "快递市场管理"),
        (r"收费站|过路费|高速", "建设管理", "公路收费"),
        (r"货车|货运|物流", "客货运输", "货物运输"),
        (r"客运|班车|大巴|公交|车站", "客货运输", "旅客运输"),
        (r"道路|修路|公路|路面|桥", "建设管理", "设施维护"),
    ],
    "商贸旅游": [
        (r"景区|景点|门票", "旅游管理", "景区管理"),
        (r"旅游|旅行社|导游", "旅游管理", "旅游市场管理"),
        (r"广告", "市场监管", "广告监管"),
        (r"传销", "市场监管", "传销"),
        (r"价格|涨价|标价|物价", "市场监管", "物价监督"),
        (r"电梯|锅炉|特种设备", "质监检验检疫", "特种设备管理"),
        (r"检验|检测|认证", "质监检验检疫", "检验检疫"),
        (r"假冒|伪劣|质量", "市场监管", "商品质量"),
        (r"垄断", "商业贸易", "市场垄断"),
        (r"中介", "市场监管", "中介机构管理"),
    ],
    "环境保护": [
        (r"噪音|噪声|扰民|吵", "环境污染", "噪音污染"),
        (r"环评", "建设项目审批", "环评报告不实"),
        (r"化工|危险品", "环境污染", "危险化学品污染"),
        (r"辐射|基站|电磁", "环境污染", "电磁污染"),
        (r"污水|排污|河|水质|水源", "环境污染", "水污染"),
        (r"垃圾|固废|渣土", "环境污染", "固体污染"),
        (r"油烟|废气|烟尘|粉尘|空气|焚烧|臭|异味|烟", "环境污染", "大气污染"),
    ],
}

# Short texts written for the demo: (first, second, third level, text).
WRITTEN: list[tuple[str, str, str, str]] = [
    (
        "城乡建设",
        "城市建设和市政管理",
        "自来水供应",
        "{district}幸福里小区从昨晚开始停水，没有任何通知，老人小孩生活很不方便，请尽快恢复供水。",
    ),
    (
        "城乡建设",
        "城市建设和市政管理",
        "自来水供应",
        "{district}和平路一带自来水发黄有异味，已经持续三天，请水务部门检测水质。",
    ),
    (
        "城乡建设",
        "城市建设和市政管理",
        "自来水供应",
        "{district}建设路与人民路交叉口地下水管爆裂，路面大量冒水，请尽快抢修。",
    ),
    (
        "城乡建设",
        "城市建设和市政管理",
        "自来水供应",
        "{district}锦绣花园高层住户水压太低，六楼以上白天基本没水，请协调加压。",
    ),
    (
        "城乡建设",
        "城市建设和市政管理",
        "自来水供应",
        "咨询水费阶梯价格怎么计算，家里这个月水费比平时高了很多，担心水表有问题。",
    ),
    (
        "城乡建设",
        "城市建设和市政管理",
        "自来水供应",
        "{district}新华路水表井盖破损，井里一直漏水，路过的行人容易踩空。",
    ),
    (
        "城乡建设",
        "城市建设和市政管理",
        "电力供应",
        "{district}光明小区今天下午突然停电，已经三个多小时了，冰箱里的东西都坏了，请尽快抢修。",
    ),
    (
        "城乡建设",
        "城市建设和市政管理",
        "电力供应",
        "{district}长江路一带最近一周频繁停电，每次半小时左右，影响沿街商户正常营业。",
    ),
    (
        "城乡建设",
        "城市建设和市政管理",
        "电力供应",
        "{district}东风村电压不稳，晚上灯光忽明忽暗，家用电器无法正常使用。",
    ),
    ("城乡建设", "城市建设和市政管理", "电力供应", "咨询家里电表欠费停电后如何缴费复电，网上缴费后还没有来电。"),
    ("城乡建设", "城市建设和市政管理", "电力供应", "{district}文化路一根电线杆倾斜严重，电线垂得很低，存在安全隐患。"),
    (
        "城乡建设",
        "城市建设和市政管理",
        "电力供应",
        "{district}友谊小区变压器夜间嗡嗡响，离住户窗户很近，请供电公司检查。",
    ),
    (
        "城乡建设",
        "城市建设和市政管理",
        "燃气供应",
        "{district}胜利街道老旧小区至今没有通天然气，居民一直用罐装液化气，请问什么时候能通气。",
    ),
    (
        "城乡建设",
        "城市建设和市政管理",
        "燃气供应",
        "{district}阳光花园楼道里闻到很重的燃气味，怀疑管道泄漏，请马上派人检查。",
    ),
    ("城乡建设", "城市建设和市政管理", "燃气供应", "燃气公司上门安检收取检测费，请问是否合理，安检是否应当免费。"),
    ("城乡建设", "城市建设和市政管理", "燃气供应", "咨询新房开通天然气需要哪些材料，开户费用是多少。"),
    ("城乡建设", "城市建设和市政管理", "燃气供应", "{district}解放路燃气管道改造施工后路面一直没有恢复，坑洼不平。"),
    (
        "城乡建设",
        "城市建设和市政管理",
        "城市公共设施",
        "{district}人民路北段路灯一整排不亮，晚上漆黑一片，行人和电动车都很危险。",
    ),
    (
        "城乡建设",
        "城市建设和市政管理",
        "城市公共设施",
        "{district}中山路公交站旁边一个下水道井盖丢失，请尽快补上，以免有人掉下去。",
    ),
    (
        "城乡建设",
        "城市建设和市政管理",
        "城管执法",
        "{district}学校门口流动摊贩占道经营，上下学时段严重堵塞，请城管处理。",
    ),
    ("城乡建设", "城市建设和市政管理", "城管执法", "{district}新华路夜市烧烤摊占用人行道，油烟和噪音扰民到凌晨两点。"),
    ("城乡建设", "城市建设和市政管理", "环境卫生", "{district}黄河路垃圾桶好几天没人清运，垃圾堆到路边，气味很大。"),
    (
        "城乡建设",
        "城市建设和市政管理",
        "公共汽车",
        "{district}到火车站的公交线路班次太少，早高峰要等四十分钟，建议增加班次。",
    ),
    (
        "城乡建设",
        "城市建设和市政管理",
        "公共汽车",
        "一辆公交车司机开车时一直打电话，还多次急刹车，请公交公司加强管理。",
    ),
    ("城乡建设", "城市建设和市政管理", "冬季采暖", "{district}锦绣花园暖气不热，室内只有十四度，请热力公司上门检查。"),
    ("城乡建设", "住房保障与房地产", "住房公积金", "咨询离职后住房公积金怎么提取，需要带哪些材料，在哪里办理。"),
    (
        "城乡建设",
        "住房保障与房地产",
        "物业服务",
        "{district}和平小区物业擅自上调物业费，也没有召开业主大会，电梯坏了半个月没人修。",
    ),
    ("城乡建设", "城乡规划", "违章建筑", "{district}友谊小区一楼住户在绿化带上私自搭建阳光房，占用公共绿地，请查处。"),
    (
        "劳动和社会保障",
        "工资福利",
        "工资发放",
        "在{district}一家装修公司干了三个月，老板拖欠工资两万多元一直不给，请帮忙追讨。",
    ),
    ("劳动和社会保障", "城镇职工社会保险", "其他", "咨询社保卡丢失后如何补办，补办期间看病能不能报销。"),
    ("劳动和社会保障", "城镇职工社会保险", "职工养老保险", "咨询在外地交了几年养老保险，回本市工作后怎么转移接续。"),
    ("劳动和社会保障", "城镇职工社会保险", "职工失业保险", "咨询失业保险金怎么申领，可以领多长时间。"),
    (
        "劳动和社会保障",
        "劳动关系",
        "劳动合同纠纷",
        "公司入职半年一直不签劳动合同，现在要辞退我也不给补偿，请问应该怎么维权。",
    ),
    ("劳动和社会保障", "就业培训", "职业培训", "咨询政府补贴的职业技能培训有哪些项目，报名条件是什么。"),
    ("教育文体", "考试招生", "招生录取", "咨询今年小学新生入学报名时间和需要准备的材料，孩子户口不在本区能否就读。"),
    ("教育文体", "教育收费", "乱收费", "{district}一所小学要求每个学生交三百元资料费，没有收据，请教育部门核实。"),
    (
        "教育文体",
        "教育行政管理",
        "校外机构管理",
        "{district}一家校外培训机构收了一年学费后突然关门，老板联系不上，请帮忙处理。",
    ),
    ("教育文体", "文化", "公共文化", "咨询市图书馆办理借书证需要什么证件，周末几点开放。"),
    ("教育文体", "体育", "体育事业", "{district}体育公园篮球场的篮球架损坏很久了，请尽快维修。"),
    (
        "卫生计生",
        "食品药品监管",
        "食品安全",
        "在{district}一家餐馆吃饭后全家腹泻，怀疑食材不新鲜，请市场监管部门检查。",
    ),
    ("卫生计生", "医政监管", "医疗技术和服务", "{district}人民医院门诊挂号排队时间太长，自助机经常故障，希望改进。"),
    ("卫生计生", "公共卫生", "疾病预防控制", "咨询孩子接种疫苗在哪个社区卫生服务中心，是否需要提前预约。"),
    ("卫生计生", "医政监管", "医疗收费", "在医院做了一个检查，收费单上有两项重复收费，请卫健部门核实。"),
    ("交通运输", "出租车管理", "行业监管", "在火车站打出租车，司机不打表一口价要八十元，请查处。"),
    ("交通运输", "出租车管理", "网约车问题", "网约车司机绕路多收费，平台客服一直不处理，请交通部门介入。"),
    ("交通运输", "邮政管理", "快递市场管理", "快递显示已签收但本人没有收到，快递点不承认，请邮政管理部门处理。"),
    ("交通运输", "建设管理", "设施维护", "{district}城郊公路有一段路面塌陷，晚上没有警示标志，容易出事故。"),
    ("交通运输", "客货运输", "旅客运输", "{district}客运站到乡镇的班车经常不按时发车，乘客等很久，希望加强管理。"),
    ("商贸旅游", "市场监管", "商品质量", "在{district}一家商场买的电饭煲用了两天就坏了，商家拒绝退换，请帮忙处理。"),
    ("商贸旅游", "市场监管", "物价监督", "{district}一家超市标价和结账价格不一致，结账时多收了钱，请查处。"),
    (
        "商贸旅游",
        "市场监管",
        "其他",
        "{district}一家健身房办了预付卡后突然关门，老板联系不上，几百名会员的钱要不回来。",
    ),
    (
        "商贸旅游",
        "质监检验检疫",
        "特种设备管理",
        "{district}锦绣花园电梯经常困人，上个月已经三次，维保单位不负责，请检查。",
    ),
    ("商贸旅游", "商业贸易", "其他", "咨询开一家小超市需要办理哪些证照，在哪里办理。"),
    ("商贸旅游", "商业贸易", "其他", "{district}农贸市场改造后摊位费上涨很多，商户经营困难，希望政府协调。"),
    ("商贸旅游", "其他", "其他", "咨询本市有没有针对个体工商户的消费券或扶持政策。"),
    ("商贸旅游", "旅游管理", "旅游市场管理", "报名参加的一日游被导游带去购物店强制消费，请文旅部门查处旅行社。"),
    ("环境保护", "环境污染", "噪音污染", "{district}一个工地夜间十一点以后还在施工，噪音很大，附近居民无法休息。"),
    ("环境保护", "环境污染", "大气污染", "{district}工业园区一家工厂晚上排放刺鼻气体，附近居民不敢开窗。"),
    ("环境保护", "环境污染", "水污染", "{district}城边小河里有黑色污水排入，河水发臭，鱼都死了。"),
]

PERSONAL = re.compile(r"我叫|本人叫|本人姓|名叫|姓名|身份证|电话|手机|联系方式|QQ|qq|微信|邮箱|\d{7,}")
SALUTATION = re.compile(
    r"^(尊敬的)?[\u4e00-\u9fa5、]{0,10}?(书记|市长|区长|县长|厅长|局长|主任|领导|部长|处长|市委市政府|政府|同志们?)"
    r"(您好|你好|们)?[，,。：:；;！!\s]+"
)
GREETING = re.compile(r"^(您好|你好|你们好|您们好|大家好)[，,。：:；;！!\s]*")
SURNAMES = "车胡杨张李王陈刘易彭黄赵周吴徐孙马朱郭何高林罗郑梁谢宋唐许韩冯邓曹曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
OFFICIAL = re.compile(f"[{SURNAMES}](书记|市长|区长|县长|州长|厅长|局长|主任|部长|处长|主席|院长)")
# A person's name: after a word that introduces one, or before a title. Such sentences are left out.
NAMED = re.compile(
    f"(我名|名叫|取名|我俩|村民|居民|医生|老板|员工|业主|经理|老师|校长|司机|工人|患者|支书|法人|负责人|股东|"
    f"委员|主任|同志|师傅|儿子|女儿|丈夫|妻子|父亲|母亲|借与|纵容|公司的)[{SURNAMES}][\u4e00-\u9fa5]{{1,2}}"
    f"|[{SURNAMES}][\u4e00-\u9fa5]{{1,2}}(主任|书记|同志|先生|女士|老师|医生|经理|校长)"
)
# Names the patterns above miss, found by reading the output; any sentence naming one is left out.
NAMES_SEEN = re.compile(
    "李翠三|刘利宏|刘雪|周忠家|杨琳|秦安如|龙华美|贺山立|刘虹彩|罗生武|雷亦帆|刘生文|肖昌顺|李梅冬|李林志|阿强"
)


def clean(text: str) -> str:
    text = text.replace("_x000D_", " ").replace("\u3000", " ").replace("巿", "市")
    text = re.sub(r"https?://\S+", "", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"[A-Z]\d+[区县市州]", "{district}", text)
    text = re.sub(r"[A-Z]市", "本市", text)
    text = re.sub(r"(本市)+", "本市", re.sub(r"(\{district\})+", "{district}", text))
    return OFFICIAL.sub("领导", text)


def excerpt(detail: str, room: int) -> str:
    text = clean(detail)
    for _ in range(3):
        text = GREETING.sub("", SALUTATION.sub("", text))
    kept = ""
    for sentence in re.findall(r"[^。！？!?；;]+[。！？!?；;]?", text):
        sentence = sentence.strip()
        if not sentence or PERSONAL.search(sentence) or NAMED.search(sentence) or NAMES_SEEN.search(sentence):
            continue
        if len(kept) + len(sentence) > room:
            break
        kept += sentence
        if len(kept) >= room // 2:
            break
    return kept


def categorise(first: str, text: str) -> tuple[str, str]:
    for pattern, second, third in KEYWORDS[first]:
        if re.search(pattern, text):
            return second, third
    return "", ""


def build(source: Path) -> None:
    with open(source / "categories.csv", encoding="utf-8", newline="") as f:
        rows = [r for r in csv.reader(f)]
    header, body = rows[0], [r for r in rows[1:] if r and r[0] in FIRST_LEVELS]
    with open(HERE / "categories.csv", "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([header, *body])
    known = {tuple(r) for r in body}

    out: list[tuple[str, str, str, str, str]] = []
    seen: set[str] = set()
    with open(source / "messages.csv", encoding="utf-8", newline="") as f:
        for message in csv.DictReader(f):
            first = message["一级分类"]
            subject = clean(message["留言主题"]).strip()
            if (
                first not in FIRST_LEVELS
                or not subject
                or subject in seen
                or PERSONAL.search(subject)
                or NAMES_SEEN.search(subject)
            ):
                continue
            seen.add(subject)
            if subject[-1] not in "。！？!?":
                subject += "。"
            text = (subject + excerpt(message["留言详情"], 150 - len(subject))).strip()
            second, third = categorise(first, text)
            out.append((first, second, third, text, "teddycup2020c"))
    for first, second, third, text in WRITTEN:
        out.append((first, second, third, text, "demo"))
    for first, second, third, _text, _source in out:
        assert not second or (first, second, third) in known, (first, second, third)
    with open(HERE / "descriptions.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["level1", "level2", "level3", "text", "source"])
        writer.writerows(out)
    print(f"wrote {len(body)} categories and {len(out)} descriptions to {HERE}")


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SOURCE)
