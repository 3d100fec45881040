"""Realistic synthetic providers: German names, the specialties of the (Muster-)Weiterbildungsordnung,
real city names with plausible postcodes. Deterministic for a given seed."""

from __future__ import annotations

import random

from messenger.directory.records import ProviderRecord

SPECIALTIES = [
    "Allgemeinmedizin", "Innere Medizin", "Kardiologie", "Gastroenterologie", "Pneumologie",
    "Nephrologie", "Hämatologie und Onkologie", "Endokrinologie und Diabetologie", "Rheumatologie",
    "Frauenheilkunde und Geburtshilfe", "Kinder- und Jugendmedizin", "Augenheilkunde",
    "Hals-Nasen-Ohrenheilkunde", "Haut- und Geschlechtskrankheiten", "Neurologie",
    "Psychiatrie und Psychotherapie", "Psychosomatische Medizin", "Psychotherapie",
    "Kinder- und Jugendpsychiatrie", "Orthopädie und Unfallchirurgie", "Urologie", "Chirurgie",
    "Anästhesiologie", "Radiologie", "Nuklearmedizin", "Physikalische und Rehabilitative Medizin",
    "Zahnmedizin", "Kieferorthopädie", "Mund-Kiefer-Gesichtschirurgie", "Laboratoriumsmedizin",
    "Pathologie", "Humangenetik", "Arbeitsmedizin", "Sportmedizin", "Schmerzmedizin",
]  # fmt: skip
FIRST = [
    "Anna", "Maria", "Julia", "Laura", "Sarah", "Katharina", "Lena", "Johanna", "Sophie", "Lea",
    "Thomas", "Michael", "Andreas", "Stefan", "Christian", "Markus", "Alexander", "Jan", "Tobias",
    "Sebastian", "Jürgen", "Klaus", "Günther", "Jörg", "Björn", "Ömer", "Ayşe", "Mehmet", "Olga",
    "Elena", "Paul", "Felix", "Lukas", "Jonas", "Hannah", "Emma", "Mia", "Claudia", "Sabine", "Petra",
]  # fmt: skip
LAST = [
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
    "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann",
    "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner",
    "Schmitz", "Krause", "Meier", "Lehmann", "Schmid", "Schulze", "Maier", "Köhler", "Herrmann",
    "König", "Walter", "Mayer", "Huber", "Kaiser", "Fuchs", "Peters", "Lang", "Scholz", "Möller",
    "Weiß", "Jung", "Hahn", "Schubert", "Vogel", "Friedrich", "Keller", "Günther", "Frank", "Berger",
    "Winkler", "Roth", "Beck", "Lorenz", "Baumann", "Franke", "Albrecht", "Schuster", "Simon",
    "Ludwig", "Böhm", "Winter", "Kraus", "Martin", "Schumacher", "Krämer", "Vogt", "Stein", "Jäger",
    "Otto", "Sommer", "Groß", "Seidel", "Heinrich", "Brandt", "Haas", "Schreiber", "Graf", "Dietrich",
    "Yılmaz", "Kaya", "Nowak", "Kowalski", "Popović", "Özdemir", "Schulte", "Kuhn", "Kühn", "Pohl",
]  # fmt: skip
CITIES = [
    ("Berlin", "10"), ("Berlin", "12"), ("Berlin", "13"), ("Hamburg", "20"), ("Hamburg", "22"),
    ("München", "80"), ("München", "81"), ("Köln", "50"), ("Köln", "51"), ("Frankfurt am Main", "60"),
    ("Stuttgart", "70"), ("Düsseldorf", "40"), ("Leipzig", "04"), ("Dortmund", "44"), ("Essen", "45"),
    ("Bremen", "28"), ("Dresden", "01"), ("Hannover", "30"), ("Nürnberg", "90"), ("Duisburg", "47"),
    ("Bochum", "44"), ("Wuppertal", "42"), ("Bielefeld", "33"), ("Bonn", "53"), ("Münster", "48"),
    ("Mannheim", "68"), ("Karlsruhe", "76"), ("Augsburg", "86"), ("Wiesbaden", "65"), ("Kiel", "24"),
    ("Mönchengladbach", "41"), ("Gelsenkirchen", "45"), ("Aachen", "52"), ("Braunschweig", "38"),
    ("Chemnitz", "09"), ("Halle (Saale)", "06"), ("Magdeburg", "39"), ("Freiburg im Breisgau", "79"),
    ("Krefeld", "47"), ("Mainz", "55"), ("Lübeck", "23"), ("Erfurt", "99"), ("Oberhausen", "46"),
    ("Rostock", "18"), ("Kassel", "34"), ("Hagen", "58"), ("Potsdam", "14"), ("Saarbrücken", "66"),
    ("Hamm", "59"), ("Ludwigshafen", "67"), ("Oldenburg", "26"), ("Osnabrück", "49"), ("Göttingen", "37"),
    ("Regensburg", "93"), ("Würzburg", "97"), ("Ulm", "89"), ("Heilbronn", "74"), ("Pforzheim", "75"),
    ("Wolfsburg", "38"), ("Bottrop", "46"), ("Trier", "54"), ("Jena", "07"), ("Cottbus", "03"),
    ("Schwerin", "19"), ("Flensburg", "24"), ("Passau", "94"), ("Konstanz", "78"), ("Gießen", "35"),
]  # fmt: skip
STREETS = ["Hauptstraße", "Bahnhofstraße", "Gartenweg", "Schillerstraße", "Goethestraße", "Marktplatz",
           "Lindenallee", "Kirchgasse", "Am Ring", "Friedrichstraße", "Berliner Allee", "Mühlenweg"]  # fmt: skip


def providers(count: int, seed: int = 7) -> list[ProviderRecord]:
    rng = random.Random(seed)
    records = []
    for n in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        specialty = rng.choice(SPECIALTIES)
        city, prefix = rng.choice(CITIES)
        shape = rng.random()
        if shape < 0.45:
            name = f"Praxis Dr. {first} {last}"
        elif shape < 0.7:
            name = f"Dr. med. {first} {last}"
        elif shape < 0.85:
            name = f"Gemeinschaftspraxis {last} & {rng.choice(LAST)}"
        else:
            name = f"MVZ {specialty.split()[0]} {city}"
        extra = (rng.choice(SPECIALTIES),) if rng.random() < 0.2 else ()
        records.append(
            ProviderRecord(
                source_ref=f"gen-{n}",
                matrix_id=f"@praxis-{n}:kasse.example",
                name=name,
                specialties=(specialty, *extra),
                street=f"{rng.choice(STREETS)} {rng.randint(1, 180)}",
                postcode=f"{prefix}{rng.randint(0, 999):03d}",
                city=city,
                hidden=rng.random() < 0.02,
                active=rng.random() > 0.02,
            )
        )
    return records


def query_mix(count: int = 1000, seed: int = 11) -> list[dict[str, str]]:
    """What patients type: specialties, synonyms, names, city + specialty, postcode + specialty,
    prefixes and typos."""
    rng = random.Random(seed)
    synonyms = ["Hausarzt", "Frauenarzt", "Zahnarzt", "Kinderarzt", "Psychotherapeut", "Augenarzt",
                "Hautarzt", "Herzarzt", "HNO", "Orthopäde"]  # fmt: skip
    mix: list[dict[str, str]] = []  # text, and its kind for per-kind figures
    for _ in range(count):
        kind = rng.random()
        city, prefix = rng.choice(CITIES)
        specialty = rng.choice(SPECIALTIES).split()[0]
        if kind < 0.2:
            mix.append({"kind": "synonym", "text": rng.choice(synonyms)})
        elif kind < 0.4:
            mix.append({"kind": "synonym + city", "text": f"{rng.choice(synonyms)} {city}"})
        elif kind < 0.55:
            mix.append(
                {"kind": "specialty + postcode", "text": f"{specialty} {prefix}{rng.randint(0, 9)}"}
            )
        elif kind < 0.7:
            mix.append({"kind": "surname + city", "text": f"{rng.choice(LAST)} {city}"})
        elif kind < 0.8:
            mix.append(
                {"kind": "first + last name", "text": f"{rng.choice(FIRST)} {rng.choice(LAST)}"}
            )
        elif kind < 0.9:
            word = rng.choice(SPECIALTIES).split()[0]
            mix.append({"kind": "word prefix", "text": word[: rng.randint(4, 6)]})
        else:
            word = rng.choice([s for s in SPECIALTIES if len(s.split()[0]) >= 6]).split()[0]
            cut = rng.randint(1, len(word) - 2)
            mix.append({"kind": "typo + city", "text": word[:cut] + word[cut + 1 :] + f" {city}"})
    return mix
