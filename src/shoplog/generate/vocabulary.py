"""The words and weights of the simulated shop: products, names, devices, referrers, reasons.

Cumulative weights (``*_CUM``) go with ``random.choices(..., cum_weights=...)``; changing any of
these changes every generated log.
"""

from __future__ import annotations

from itertools import accumulate

#: Price of a euro in dollars, for persons who shop in USD.
USD_PER_EUR = 1.08

CATEGORIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "shoes": (
        ("Trail", "City", "Classic", "Canvas", "Leather", "Running"),
        ("Sneaker", "Boot", "Loafer", "Sandal", "Runner", "Slip-on"),
    ),
    "apparel": (
        ("Organic", "Linen", "Merino", "Denim", "Oversized", "Slim"),
        ("T-Shirt", "Hoodie", "Jacket", "Shirt", "Sweater", "Chinos"),
    ),
    "accessories": (
        ("Vintage", "Woven", "Minimal", "Travel", "Leather", "Canvas"),
        ("Backpack", "Wallet", "Belt", "Cap", "Scarf", "Tote"),
    ),
    "homeware": (
        ("Ceramic", "Oak", "Stoneware", "Linen", "Copper", "Nordic"),
        ("Mug", "Vase", "Lamp", "Cushion", "Bowl", "Throw"),
    ),
    "beauty": (
        ("Herbal", "Citrus", "Gentle", "Daily", "Repair", "Hydrating"),
        ("Serum", "Cream", "Shampoo", "Soap", "Balm", "Cleanser"),
    ),
    "electronics": (
        ("Wireless", "Compact", "Smart", "Portable", "Pro", "Mini"),
        ("Earbuds", "Speaker", "Charger", "Lamp", "Watch", "Power Bank"),
    ),
}
CATEGORY_PRICE = {
    "shoes": 70.0,
    "apparel": 35.0,
    "accessories": 30.0,
    "homeware": 25.0,
    "beauty": 15.0,
    "electronics": 55.0,
}

FIRST_NAMES = (
    "alice",
    "bob",
    "carla",
    "david",
    "emma",
    "felix",
    "greta",
    "hugo",
    "ines",
    "jon",
    "karin",
    "lars",
    "maria",
    "nils",
    "olga",
    "paul",
    "queenie",
    "rosa",
    "sven",
    "tina",
    "ulf",
    "vera",
    "walter",
    "xenia",
    "yusuf",
    "zoe",
    "anna",
    "ben",
    "chloe",
    "dmitri",
    "eva",
    "finn",
    "hanna",
    "ivan",
    "julia",
    "kofi",
    "lena",
    "mohammed",
    "noah",
    "priya",
    "sara",
    "tom",
    "wei",
    "lucia",
)
LAST_NAMES = (
    "smith",
    "mueller",
    "garcia",
    "rossi",
    "dubois",
    "jansen",
    "nowak",
    "silva",
    "kim",
    "novak",
    "berg",
    "fischer",
    "weber",
    "martin",
    "lopez",
    "moreau",
    "bianchi",
    "costa",
    "schmidt",
    "larsen",
    "horvat",
    "popescu",
    "ivanova",
    "okafor",
    "nguyen",
    "cohen",
    "murphy",
    "walsh",
    "haddad",
    "tanaka",
    "sato",
    "brown",
    "wilson",
    "taylor",
    "meyer",
    "wagner",
    "becker",
    "hoff",
)
EMAIL_DOMAINS = (
    "gmail.com",
    "example.com",
    "mail.example.org",
    "outlook.com",
    "x.com",
    "posteo.de",
    "web.de",
    "yahoo.com",
)
EMAIL_DOMAIN_CUM = list(accumulate((30, 10, 5, 15, 8, 5, 10, 10)))

USER_AGENTS = {
    "desktop": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/18.1 Safari/605.1.15",
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    ),
    "mobile": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; Android 13; SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/130.0.0.0 Mobile Safari/537.36",
    ),
    "tablet": (
        "Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.7 Mobile/15E148 Safari/604.1",
    ),
}
HOSTS = {
    "desktop": "shop.example.com",
    "mobile": "m.shop.example.com",
    "tablet": "shop.example.com",
}

# (referrer, campaign options) for the landing page of a visit; None = direct.
NEWSLETTER = "https://newsletter.example.com/"
REFERRERS: tuple[tuple[str | None, tuple[str | None, ...]], ...] = (
    (None, (None,)),
    ("https://www.google.com/", (None, None, None, "search_brand")),
    ("https://www.bing.com/", (None,)),
    ("https://www.facebook.com/", (None, "spring_sale", "retargeting")),
    ("https://www.instagram.com/", (None, "spring_sale", "influencer_q1")),
    (NEWSLETTER, ("newsletter_weekly",)),
)
REFERRER_CUM = list(accumulate((35, 35, 5, 10, 8, 7)))

CONTENT_PAGES = (
    ("/about", "About us"),
    ("/help/shipping", "Shipping"),
    ("/help/returns", "Returns"),
    ("/blog/spring-lookbook", "Spring lookbook"),
)
SEARCH_TERMS = ("boots", "gift", "linen", "wireless", "mug", "sale", "backpack", "serum", "black")

# Visits start more often around lunch and in the evening (UTC hour weights).
HOUR_CUM = list(
    accumulate((1, 1, 1, 1, 1, 2, 3, 5, 6, 6, 6, 7, 8, 7, 6, 6, 6, 7, 8, 9, 9, 8, 5, 2))
)

UNKNOWN_TYPES = ("wishlist_add", "newsletter_subscribe", "chat_opened")
FAILURE_REASONS = ("insufficient_funds", "card_declined", "expired_card", "3ds_failed")
REFUND_REASONS = ("damaged", "not_as_described", "changed_mind", "late_delivery")
METHODS = ("card", "paypal", "bank_transfer")
METHOD_CUM = list(accumulate((70, 22, 8)))
