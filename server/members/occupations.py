"""The occupation tags a member may put on their profile, with their labels."""

from __future__ import annotations

OCCUPATIONS: dict[str, dict[str, str]] = {
    "freelancer": {"zh-Hans": "自由职业者", "zh-Hant": "自由工作者", "en": "Freelancer"},
    "new_media_creator": {
        "zh-Hans": "新媒体创作者",
        "zh-Hant": "新媒體創作者",
        "en": "New-media creator",
    },
    "designer": {"zh-Hans": "设计师", "zh-Hant": "設計師", "en": "Designer"},
    "developer": {"zh-Hans": "程序员", "zh-Hant": "程式設計師", "en": "Software developer"},
    "writer": {"zh-Hans": "写作者", "zh-Hant": "寫作者", "en": "Writer"},
    "translator": {"zh-Hans": "译者", "zh-Hant": "譯者", "en": "Translator"},
    "photographer": {"zh-Hans": "摄影师", "zh-Hant": "攝影師", "en": "Photographer"},
    "video_creator": {"zh-Hans": "视频创作者", "zh-Hant": "影音創作者", "en": "Video creator"},
    "consultant": {"zh-Hans": "顾问", "zh-Hant": "顧問", "en": "Consultant"},
    "marketer": {"zh-Hans": "营销人", "zh-Hant": "行銷人", "en": "Marketer"},
    "educator": {"zh-Hans": "教育工作者", "zh-Hant": "教育工作者", "en": "Educator"},
    "artist": {"zh-Hans": "艺术家", "zh-Hant": "藝術家", "en": "Artist"},
    "musician": {"zh-Hans": "音乐人", "zh-Hant": "音樂人", "en": "Musician"},
    "ecommerce": {"zh-Hans": "电商从业者", "zh-Hant": "電商從業者", "en": "E-commerce seller"},
    "gig_worker": {"zh-Hans": "灵活就业者", "zh-Hant": "零工工作者", "en": "Gig worker"},
    "entrepreneur": {"zh-Hans": "创业者", "zh-Hant": "創業者", "en": "Entrepreneur"},
    "other": {"zh-Hans": "其他", "zh-Hant": "其他", "en": "Other"},
}

MAX_OCCUPATIONS = 5
