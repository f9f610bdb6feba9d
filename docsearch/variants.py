"""Spelling-variant folding for Japanese search: 旧字体, long-vowel marks, katakana and okurigana.

Japanese writes the same word several ways.  Search must treat these spellings as one, so the
document text and the query text go through the same folding (see ``docsearch.analyzer.normalize``):

* **旧字体 → 新字体** (old → new character forms, also common 異体字 in family names):
  國→国, 學→学, 髙→高, 﨑→崎 …  A ``str.translate`` table, applied after NFKC.  NFKC already folds the
  CJK *compatibility* ideographs (U+F900–FAFF, e.g. 神 U+FA19 → 神), but not these: they are ordinary
  unified ideographs, hence the table.  斎/斉/齋/齊 all fold to 斎 so that a search for 斉藤 also finds
  齋藤 and 斎藤 (folding is symmetric, so a search for 一斉 still finds 一斉).
* **Long-vowel marks** (JIS Z 8301 / 外来語の表記): a trailing ー after three or more katakana is
  dropped, so サーバー = サーバ, コンピューター = コンピュータ, ユーザー = ユーザ.  Short words keep it
  (キー ≠ キ).  Dash look-alikes between katakana become ー first.
* **Katakana spellings**: ヴァ/ヴィ/ヴ… → バ/ビ/ブ…, ウィ/ウェ/ウォ → ウイ/ウエ/ウオ, ヶ/ヵ → ケ/カ,
  and the 中黒 between katakana words is dropped (デジタル・トランスフォーメーション).
* **Counters**: 1か月 / 1カ月 / 1ヶ月 / 1箇月 → 1か月 (after a numeral only).
* **Okurigana** (取り扱い / 取扱い / 取扱) is not folded here: stripping kana joins words that differ
  (手当 and 手当て), so only the curated spellings of ``docsearch.okurigana`` are joined, at query
  time.
"""

from __future__ import annotations

import re

# --- character classes shared with the analyzer -------------------------------------------------
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f々〆〇"
HIRAGANA = "\u3041-\u3096\u309d\u309e"
KATAKANA = "\u30a1-\u30fa\u30fc-\u30ff\u31f0-\u31ff"  # without the 中黒 U+30FB
CJK = HAN + HIRAGANA + KATAKANA

# --- 旧字体 / 異体字 → 新字体 ------------------------------------------------------------------
# Pairs "old new"; one string keeps the table easy to review and extend.
_ITAIJI_PAIRS = (
    "國国 學学 區区 縣県 廣広 澤沢 邊辺 邉辺 齋斎 齊斎 斉斎 髙高 﨑崎 嵜崎 嶋島 嶌島 濱浜 櫻桜 會会 體体 "
    "關関 當当 對対 圓円 實実 寶宝 寳宝 惠恵 榮栄 藝芸 氣気 發発 變変 辯弁 辨弁 瓣弁 豫予 號号 條条 廳庁 "
    "聽聴 鐵鉄 驛駅 舊旧 齒歯 壽寿 眞真 團団 黨党 萬万 龍竜 應応 假仮 價価 勞労 營営 圖図 澁渋 淺浅 瀧滝 "
    "德徳 恆恒 兒児 勳勲 黑黒 驗験 檢検 險険 樂楽 藥薬 禮礼 總総 醫医 歸帰 缺欠 證証 狀状 稅税 說説 靑青 "
    "淸清 彌弥 與与 餘余 來来 爲為 擴拡 據拠 擔担 顯顕 戰戦 歷歴 曆暦 辭辞 賣売 讀読 續続 屆届 從従 徵徴 "
    "兩両 亞亜 惡悪 圍囲 濟済 齡齢 邨村 冨富 槇槙 嶽岳 峯峰 祕秘 廢廃 勵励 鄕郷 錢銭 壓圧 "
    "隱隠 穩穏 獨独 燈灯 燒焼 經経 繼継 絲糸 縱縦 聲声 肅粛 臺台 與与 莊荘 處処 號号 觀観 覺覚 譯訳 讓譲 "
    "豐豊 賴頼 辯弁 遞逓 邊辺 醉酔 釋釈 鎭鎮 鑛鉱 關関 隨随 雜雑 靜静 顏顔 驅駆 髮髪 鬪闘 麥麦 點点 黃黄 "
    "齋斎 傳伝 僞偽 儉倹 兒児 册冊 劍剣 劑剤 卷巻 卽即 參参 變変 單単 嚴厳 埀垂 墮堕 壞壊 壯壮 "
    "奧奥 奬奨 孃嬢 寢寝 專専 將将 尙尚 屬属 峽峡 巖巌 帶帯 廣広 廳庁 彈弾 徑径 惱悩 戀恋 拂払 "
    "拔抜 拜拝 挾挟 插挿 搖揺 攝摂 數数 斷断 晝昼 曉暁 條条 來来 棧桟 榮栄 樣様 橫横 檢検 權権 歐欧 殘残 "
    "殼殻 每毎 沒没 淚涙 溪渓 滯滞 滿満 潛潜 澤沢 濕湿 灣湾 爭争 狹狭 獻献 畫画 當当 疊畳 發発 盜盗 "
    "碎砕 礦鉱 禪禅 稻稲 穗穂 竊窃 粹粋 絕絶 綠緑 緖緒 縣県 繩縄 纖繊 罐缶 脫脱 腦脳 臟臓 舍舎 "
    "艷艶 莖茎 萬万 螢蛍 蠶蚕 衞衛 裝装 覽覧 觸触 豬猪 貳弐 賤賎 贊賛 踐践 轉転 輕軽 辭辞 遲遅 醬醤 "
    "鎭鎮 閱閲 陷陥 隸隷 雙双 霸覇 顯顕 飜翻 驗験 鷄鶏 麪麺 黨党 齒歯 龜亀"
)
ITAIJI: dict[str, str] = {pair[0]: pair[1] for pair in _ITAIJI_PAIRS.split() if pair[0] != pair[1]}
#: The 新字体 the table folds to (a query written with one may mean a document written with its 旧字体).
ITAIJI_TARGETS: frozenset[str] = frozenset(ITAIJI.values())

# Katakana that NFKC leaves alone but that the same word is spelled with.
_KANA_CHARS: dict[str, str] = {"ヶ": "ケ", "ヵ": "カ", "ヰ": "イ", "ヱ": "エ"}

#: ``str.translate`` table for all one-character folds (used by the analyzer after NFKC + casefold).
CHAR_TABLE: dict[int, str] = {ord(k): v for k, v in {**ITAIJI, **_KANA_CHARS}.items() if k != v}

# --- multi-character folds (regex based) ---------------------------------------------------------
_DASH_IN_KATAKANA_RE = re.compile(rf"(?<=[{KATAKANA}])[‐‑‒–—―−─━](?=[{KATAKANA}]|[^\w]|$)")
# A trailing ー after three katakana (or ー) is dropped: サーバー → サーバ, but キー stays.
_LONG_VOWEL_RE = re.compile(rf"(?<=[{KATAKANA}]{{3}})ー+(?![{KATAKANA}])")
_KATAKANA_DOT_RE = re.compile(rf"(?<=[{KATAKANA}])・(?=[{KATAKANA}])")
_KANA_SPELLING = {
    "ヴァ": "バ",
    "ヴィ": "ビ",
    "ヴェ": "ベ",
    "ヴォ": "ボ",
    "ヴュ": "ビュ",
    "ヴ": "ブ",
    "ウィ": "ウイ",
    "ウェ": "ウエ",
    "ウォ": "ウオ",
}
_KANA_SPELLING_RE = re.compile("|".join(sorted(map(re.escape, _KANA_SPELLING), key=len, reverse=True)))
_COUNTER_RE = re.compile(r"(?<=[0-9〇一二三四五六七八九十百千])[かカケ箇](?=[月所国年条])")

#: Ordered (pattern, replacement, triggers) folds that the analyzer applies after the character
#: table.  A replacement is a string or a function of the match, as for ``re.sub``; the fold is
#: skipped unless one of the trigger characters occurs (a C-level ``in`` test is far cheaper than a
#: regex with look-behind scanning every character).
REGEX_FOLDS: tuple[tuple[re.Pattern[str], object, str], ...] = (
    (_KATAKANA_DOT_RE, "", "・"),
    (_DASH_IN_KATAKANA_RE, "ー", "‐‑‒–—―−─━"),
    (_LONG_VOWEL_RE, "", "ー"),
    (_KANA_SPELLING_RE, lambda m: _KANA_SPELLING[m.group()], "ヴウ"),
    (_COUNTER_RE, "か", "かカケ箇"),
)
