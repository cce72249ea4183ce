"""Every word the synthetic world uses, in one place.

All signal vocabulary here is INVENTED NONSENSE: the placeholder hashtags, captions, comments and
off-platform handles stand in for the operator's real lists and mean nothing anywhere. Benign words
are ordinary everyday vocabulary. To point a demo at an operator's own placeholder list, replace
SIGNAL_HASHTAGS (and, if wanted, the comment lists) here; nothing else in the generator names a term.
"""

from __future__ import annotations

# Placeholder "signal" hashtags used by planted networks (invented, without '#').
SIGNAL_HASHTAGS: tuple[str, ...] = (
    "quixfen", "vordalu", "zemblat", "pruvok", "taxillo", "morvendi", "gliptar", "snurvak",
    "flenwick", "dorquil", "brastovo", "yelmish", "kwandoro", "tizzelp", "obrunda", "welkzin",
)

# Ordinary hashtags of an ordinary platform.
BENIGN_HASHTAGS: tuple[str, ...] = (
    "sunset", "gardening", "coffee", "football", "travel", "photography", "music", "cooking",
    "books", "running", "cats", "dogs", "hiking", "art", "design", "coding", "python", "science",
    "weather", "news", "movies", "gaming", "cycling", "baking", "yoga", "fashion", "nature",
    "birds", "astronomy", "history", "mondaymotivation", "tbt", "weekend", "foodie", "beach",
    "mountains", "rain", "autumn", "spring", "winter", "summer", "tea", "chess", "knitting",
    "podcast", "startups", "education", "recipes", "vegan", "fitness", "basketball", "tennis",
    "diy", "woodworking", "camping", "fishing", "sketch", "watercolor", "jazz", "vinyl",
)

ADJECTIVES: tuple[str, ...] = (
    "quiet", "blue", "green", "sunny", "misty", "brave", "calm", "lucky", "swift", "gentle",
    "amber", "silver", "golden", "rusty", "happy", "sleepy", "wild", "tiny", "grand", "bright",
    "cosmic", "urban", "velvet", "north", "south", "lazy", "noisy", "clever", "odd", "humble",
)
NOUNS: tuple[str, ...] = (
    "fox", "river", "walker", "otter", "maple", "harbor", "pixel", "comet", "lantern", "meadow",
    "falcon", "pebble", "cactus", "bison", "cedar", "willow", "badger", "cloud", "koala", "ember",
    "tiger", "raven", "panda", "orbit", "thistle", "anchor", "mango", "puffin", "ferret", "violet",
)
FIRST_NAMES: tuple[str, ...] = (
    "Alex", "Sam", "Jordan", "Riley", "Casey", "Morgan", "Taylor", "Jamie", "Robin", "Avery",
    "Noor", "Yusuf", "Layla", "Omar", "Sofia", "Mateo", "Lucia", "Diego", "Ines", "Hana",
    "Kai", "Mina", "Leo", "Zara", "Ivan", "Elif", "Tomas", "Aiko", "Ravi", "Priya",
)

BENIGN_BIOS: tuple[str, ...] = (
    "coffee first, then everything else", "amateur photographer and weekend hiker",
    "I post pictures of my garden", "runner, reader, occasional baker", "opinions are my own",
    "learning to paint one sunset at a time", "dad jokes and bicycle repairs",
    "software person. likes trains.", "tea > coffee", "birdwatching from my balcony",
    "here for the cat pictures", "teacher. plant collector.", "music, maps and long walks", "",
)
BENIGN_POSTS: tuple[str, ...] = (
    "What a morning for a walk", "Finally finished this little project", "Anyone else watching the match tonight?",
    "New recipe attempt, results mixed", "The light today was unreal", "Reading a great book about rivers",
    "Monday again, somehow", "Tried a new cafe downtown", "My plants are thriving this week",
    "Long ride this weekend, legs are done", "Throwback to last summer", "Rain all day, perfect for tea",
    "Sketched this on the train", "Learning chess openings, send help", "Look at this sky",
    "Weekend plans: absolutely nothing", "Our dog discovered snow", "Fresh bread out of the oven",
)
BENIGN_REPLIES: tuple[str, ...] = (
    "Love this!", "So true", "Haha, same here", "Beautiful shot", "Where is this?", "Congrats!",
    "Great idea", "Thanks for sharing", "I need to try this", "Agreed", "Wow", "This made my day",
)

# Placeholder network captions and comments: benign invented phrases, meaningless on purpose.
PLACEHOLDER_CAPTIONS: tuple[str, ...] = (
    "lantern set seven", "teal marbles, round two", "plinth count updated", "the crate of dots",
    "grey spiral batch", "noon tilt series", "orbit squares again", "the amber grid",
)
PLACEHOLDER_COMMENTS: dict[str, tuple[str, ...]] = {
    "en": (
        "the lantern tilts at noon", "plinth count is seven today", "send the teal marbles",
        "more dots for the crate", "spiral batch when", "orbit squares again please",
    ),
    "ar": (
        "الفانوس يميل عند الظهر", "عدد الأعمدة سبعة اليوم", "الرخام الأزرق جميل",
        "أين الدراجة الخضراء؟", "صباح الخير يا أصدقاء الحديقة",
    ),
    "es": (
        "la linterna se inclina al mediodía", "hoy hay siete columnas", "las canicas azules son bonitas",
        "¿dónde está la bicicleta verde?", "buenos días, amigos del jardín",
    ),
}
COMMENT_LANG_WEIGHTS: tuple[tuple[str, float], ...] = (("en", 0.5), ("ar", 0.25), ("es", 0.25))

# Off-platform contact platforms and the bio templates that point to them (handles are invented).
PLATFORMS: tuple[str, ...] = ("kik", "snapchat", "whatsapp", "telegram")
BIO_TEMPLATES: dict[str, tuple[str, ...]] = {
    "kik": ("kik: {h}", "k1k {h}", "add me on kik {h}"),
    "snapchat": ("sc: {h}", "snap {h}", "👻 {h}"),
    "whatsapp": ("wa {h}", "whatsapp {h}", "msg me {h}"),
    "telegram": ("tg: {h}", "t.me/{h}", "telegram @{h}"),
}
HANDLE_SYLLABLES: tuple[str, ...] = (
    "zo", "rik", "vel", "mun", "tas", "qua", "brel", "ny", "fo", "dak", "lum", "xe", "pir", "gosh",
    "wen", "tul", "smar", "oki", "zuv", "hab",
)
# Background bios that mention an ordinary contact (benign; realistic noise for the handle layer).
BENIGN_CONTACT_BIOS: tuple[str, ...] = ("business enquiries: {h}", "find me on {p}: {h}", "{p} {h} for commissions")

CAMOUFLAGE_TEXT: tuple[str, ...] = BENIGN_POSTS
SUSPENSION_REASONS_NETWORK: tuple[str, ...] = ("policy:known_media_match", "policy:reported_and_confirmed")
SUSPENSION_REASONS_BENIGN: tuple[str, ...] = ("spam", "impersonation", "automated_behaviour")

USER_AGENTS: tuple[str, ...] = (
    "DemoApp/5.2 (Android 14)", "DemoApp/5.1 (iOS 17.4)", "Mozilla/5.0 (X11; Linux x86_64) DemoBrowser/120",
    "Mozilla/5.0 (Windows NT 10.0) DemoBrowser/121", "DemoApp/4.9 (iPadOS 16)",
)
# Documentation address ranges only (RFC 5737).
IP_PREFIXES: tuple[str, ...] = ("192.0.2.", "198.51.100.", "203.0.113.")
# WhatsApp numbers are "+1 <area> 555 01xx": the 555-0100..0199 block is reserved for fiction.

# Rich profiles (WorldParams.rich_profiles): display names and bios from a space large enough that a
# carried name or bio says something about who wrote it. Ordinary words only.
SURNAMES: tuple[str, ...] = (
    "Okafor", "Lindqvist", "Haddad", "Moreau", "Novak", "Tanaka", "Silva", "Kowalski", "Brennan", "Ivanova",
    "Mensah", "Castillo", "Nakamura", "Fischer", "Duarte", "Kaur", "Rossi", "Petrov", "Adeyemi", "Larsen",
    "Yilmaz", "Horvat", "Quinn", "Ferreira", "Sato", "Byrne", "Kim", "Alvarez", "Nguyen", "Weber",
    "Oyelaran", "Marsh", "Dubois", "Eriksen", "Santos", "Abara", "Cohen", "Varga", "Lund", "Patel",
)
NAME_DECOR: tuple[str, ...] = ("", "", "", "", " ✨", " 🌙", " 🌿", " ☕", " 🎧", " 📷", " 🐾", " 🌊")
BIO_OPENERS: tuple[str, ...] = (
    "night owl", "part-time baker", "retired sailor", "hobby astronomer", "amateur cellist", "weekend climber",
    "bookshop regular", "tram enthusiast", "sourdough apprentice", "houseplant whisperer", "chess club treasurer",
    "lapsed runner", "map collector", "tea snob", "crossword addict", "bird counter", "pottery beginner",
    "film photographer", "garden gnome curator", "vinyl digger",
)
BIO_MIDDLES: tuple[str, ...] = (
    "from the coast", "living in a small flat", "with two cats", "with a loud dog", "of the north side",
    "between jobs", "learning spanish", "fixing old radios", "saving for a boat", "on a quiet street",
    "who talks to pigeons", "with too many mugs", "of the late shift", "who walks everywhere", "with a red bike",
    "from a tiny village", "in a noisy city", "with strong opinions on soup", "of the early bus", "with one plant left",
)
BIO_CLOSERS: tuple[str, ...] = (
    "say hi", "no dms please", "views my own", "always hungry", "probably outside", "slow replies",
    "be kind", "here for the sunsets", "mostly lurking", "collecting moments", "still learning", "ask me about maps",
    "send snacks", "on my way", "one day at a time", "leave a wave", "posting rarely", "kettle on", "ok bye", "",
)
BIO_PLACES: tuple[str, ...] = (
    "", "near the river", "by the old mill", "up north", "down south", "out west", "in the hills", "by the sea",
    "near the station", "in the suburbs", "downtown", "on the island", "in the valley", "by the lake",
    "near the park", "in the old town", "on the edge of town", "near the harbour", "in the countryside",
    "under the flight path", "next to a bakery",
)
