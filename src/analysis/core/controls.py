"""Control sentences: ordinary sentences about nothing this project studies.

An indicator, alias or surname that matches many of them would match nearly
any text, so the codebook and the registry refuse it. The sentences were
written for this check; keep them free of law, gender, protest, media and
names, so that a real indicator never matches them.
"""

import re

CONTROL = {
    "English": (
        "The weather will stay warm and dry for most of the week, with light winds.",
        "She added a pinch of salt to the soup and let it simmer for ten more minutes.",
        "The home team scored twice in the second half and won by a clear margin.",
        "A new bus route will link the train station with the university from next month.",
        "Prices of fresh vegetables rose slightly at the local market after heavy rain.",
        "He spent the weekend repairing an old bicycle and painting a garden fence.",
        "The museum opened a small exhibition of ceramics from private collections.",
        "Our library is closed on public holidays, but its reading room stays open late.",
    ),
    "Chinese": (
        "本周大部分时间天气晴朗，午后有微风。",
        "她在汤里加了一点盐，又用小火煮了十分钟。",
        "主队在下半场连进两球，最终赢得了比赛。",
        "下个月起将开通一条连接火车站和大学校园的公交线路。",
        "大雨过后，本地市场的新鲜蔬菜价格略有上涨。",
        "他周末修好了一辆旧自行车，还把花园的篱笆刷了漆。",
        "博物馆举办了一个小型陶瓷展览，展品来自私人收藏。",
        "图书馆在公共假日闭馆，但阅览室晚上照常开放。",
    ),
}


def too_general(expression: str, caseless: bool = True) -> str:
    """'' when ``expression`` (as the scanners compile it: ASCII word
    boundaries, case ignored unless ``caseless`` is False) matches at most
    half of each language's control sentences; otherwise what it matched."""
    rx = re.compile(expression, re.ASCII | (re.IGNORECASE if caseless else 0))
    for language, sentences in CONTROL.items():
        n = sum(1 for s in sentences if rx.search(s))
        if 2 * n > len(sentences):
            return (f"matches {n} of {len(sentences)} ordinary {language} sentences about "
                    "unrelated things (weather, cooking, sport)")
    return ""
