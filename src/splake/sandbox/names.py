# ruff: noqa: RUF001, RUF002
"""Word lists for localized product titles, declared as data.

Japanese titles deliberately include characters that exist in cp932 (Windows-31J) but not in plain
Shift_JIS (①②③, ～ FULLWIDTH TILDE, 髙, ㈱) and half-width katakana, so a client that decodes JP
flat files as strict Shift_JIS gets them wrong. German titles use umlauts, ß and €; French titles use
accents. Every title is encodable in its marketplace's flat-file charset (cp932 / cp1252).
"""

from __future__ import annotations

TITLE_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "adj": (
            "Premium",
            "Compact",
            "Heavy-Duty",
            "Eco",
            "Ultra-Light",
            "Classic",
            "Smart",
            "Foldable",
            "Rugged",
            "Deluxe",
        ),
        "noun": (
            "Camping Lantern",
            "Water Bottle",
            "Trail Backpack",
            "Coffee Grinder",
            "Yoga Mat",
            "Bluetooth Speaker",
            "Chef's Knife",
            "Desk Lamp",
            "Hiking Poles",
            "Insulated Mug",
            "Cast Iron Skillet",
            "Phone Stand",
        ),
        "variant": (
            "Black",
            "Navy Blue",
            "Forest Green",
            "2-Pack",
            "Large",
            "Small",
            "12 oz",
            "Stainless Steel",
        ),
    },
    "de": {
        "adj": (
            "Hochwertige",
            "Kompakte",
            "Robuste",
            "Größere",
            "Praktische",
            "Schöne",
            "Leichte",
            "Süße",
            "Heiße",
            "Ökologische",
        ),
        "noun": (
            "Küchenwaage",
            "Thermoskanne",
            "Gießkanne",
            "Bürolampe",
            "Wärmflasche",
            "Fußmatte",
            "Schüssel",
            "Brotdose",
            "Rückenkissen",
            "Gemüsehobel",
            "Kaffeemühle",
            "Müslischale",
        ),
        "variant": (
            "Weiß",
            "Grün",
            "Größe M",
            "für Küche & Büro",
            "Sparpack – nur 9,99 €",
            "2 Stück",
            "Edelstahl",
            "Blau",
        ),
    },
    "fr": {
        "adj": (
            "Élégante",
            "Pratique",
            "Légère",
            "Écologique",
            "Réglable",
            "Étanche",
            "Économique",
            "Solide",
            "Très Douce",
            "Idéale",
        ),
        "noun": (
            "Lampe de bureau",
            "Bouilloire électrique",
            "Théière en fonte",
            "Crème hydratante",
            "Boîte à goûter",
            "Cafetière à piston",
            "Couverture polaire",
            "Éponge lavable",
            "Tire-bouchon",
            "Sèche-cheveux",
            "Râpe à fromage",
            "Gourde isotherme",
        ),
        "variant": (
            "Noir",
            "Rosé",
            "Taille unique",
            "Lot de 2",
            "Édition limitée",
            "Crème",
            "Vert forêt",
            "Grand modèle",
        ),
    },
    "ja": {
        "adj": (
            "高品質",
            "軽量",
            "折りたたみ式",
            "防水",
            "大容量",
            "髙級",
            "コンパクト",
            "日本製",
            "抗菌",
            "静音",
        ),
        "noun": (
            "ステンレス水筒",
            "電気ケトル",
            "収納ボックス",
            "ＬＥＤデスクライト",
            "マグカップ",
            "ｷｯﾁﾝﾀｲﾏｰ",
            "保冷バッグ",
            "まな板",
            "お弁当箱",
            "ハンディファン",
            "加湿器",
            "ﾀｵﾙｾｯﾄ",
        ),
        "variant": (
            "①ホワイト",
            "②ブラック",
            "③グレー",
            "500ml～1L",
            "２個セット",
            "㈱さくら生活",
            "ﾌﾞﾙｰ",
            "Ｌサイズ",
        ),
    },
}

LANGUAGE_BY_MARKETPLACE_LANGUAGE = {"en": "en", "de": "de", "fr": "fr", "ja": "ja"}

CITIES: dict[str, tuple[tuple[str, str, str], ...]] = {
    # country -> (city, state/region, postal code)
    "US": (
        ("Seattle", "WA", "98101"),
        ("Austin", "TX", "73301"),
        ("Portland", "OR", "97201"),
        ("Boston", "MA", "02108"),
    ),
    "CA": (("Toronto", "ON", "M5H 2N2"), ("Montréal", "QC", "H2Y 1C6"), ("Vancouver", "BC", "V6B 1A1")),
    "DE": (
        ("München", "Bayern", "80331"),
        ("Köln", "Nordrhein-Westfalen", "50667"),
        ("Düsseldorf", "NRW", "40213"),
    ),
    "GB": (
        ("London", "Greater London", "SW1A 1AA"),
        ("Manchester", "Lancashire", "M1 1AE"),
        ("Leeds", "West Yorkshire", "LS1 1UR"),
    ),
    "FR": (
        ("Besançon", "Bourgogne-Franche-Comté", "25000"),
        ("Nîmes", "Occitanie", "30000"),
        ("Orléans", "Centre-Val de Loire", "45000"),
    ),
    "JP": (
        ("渋谷区", "東京都", "150-0002"),
        ("大阪市北区", "大阪府", "530-0001"),
        ("札幌市中央区", "北海道", "060-0001"),
    ),
}
