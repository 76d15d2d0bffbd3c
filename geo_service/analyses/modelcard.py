"""The model card of the forecast: a description in the structure of the Algoritmeregister.

The Dutch government's Algoritmeregister (algoritmes.overheid.nl) asks for a fixed set of
sections: general information (naam, organisatie, korte omschrijving, status), responsible
use (doel en impact, juridische grondslag, impacttoetsen, menselijke tussenkomst, risico's)
and operation (gegevens, technische werking, evaluatie, bekende beperkingen). This module
fills every section it can from the store and the latest backtest
(:func:`geo_service.store.evaluations.latest_backtest`) and marks the fields only the
municipality can fill (organisation, legal basis, impact assessments, who decides) as
``in_te_vullen``: such a field is never filled with a guess.

:func:`model_card` returns a dict (the JSON form); :func:`model_card_markdown` renders it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from geo_service import __version__
from geo_service.analyses.backtesting import OWN_METHOD, methods_frame
from geo_service.errors import NotFoundError
from geo_service.filters import IncidentFilter
from geo_service.store import Store
from geo_service.store.evaluations import latest_backtest
from spatial.forecast.origins import is_month_resolution

STANDARD: Final = (
    "Algoritmeregister van de Nederlandse overheid (indeling van de publicatiestandaard); "
    "gegenereerd door geo-service"
)
TO_FILL: Final = "IN TE VULLEN"

#: The Toronto benchmark (``benchmarks/backtest.py --ceiling``, README "Forecasts and their
#: accuracy"; ``benchmarks/results/toronto_ceiling.txt``).
TORONTO_RESULT: Final = (
    "Op woninginbraak in Toronto (40 startmomenten van 2 weken, 2019-01 t/m 2020-06, 3 % van "
    "de cellen) haalt covrate een gemiddelde PAI van 13,57 tegen 12,44 voor de beste "
    "eenvoudige methode (het aantal inbraken per cel over alle jaren ervoor) = 1,091x "
    "(95 %-interval 1,065-1,110), beter op 34 van de 40 startmomenten. Dat is meer dan het "
    "'orakel' dat cellen rangschikt op hun aantal over 2014-2021 (de toekomst inbegrepen): "
    "13,42. De winst komt van de andere categorieën in dezelfde cel (diefstal, beroving, "
    "geweld, autodiefstal, elk gesplitst naar woning of elders): zonder die covariaten 13,02 "
    "(1,047x), zonder de splitsing naar woning 13,39. Het doel van 1,15x is niet gehaald."
)

#: The other cities and the dynamic model (``hawkes``) in the same benchmarks.
DYNAMIC_RESULT: Final = (
    "Niet overal beter: Merseyside (maandklok, 4 startmomenten, 3 %) 1,054x (0,949-1,158) en "
    "de demo (gedeeltelijk synthetisch, 2 weken, 3 %) 1,027x (0,983-1,050): niet aantoonbaar "
    "beter. Het zelf-exciterende model (hawkes: achtergrond per cel plus near repeats, Mohler "
    "e.a. 2011) haalt in Toronto 1,006x (0,980-1,023) en vindt alleen herhaling binnen dagen "
    "(ongeveer 3 % van de inbraken); de near-repeatkenmerken van covrate krijgen vrijwel geen "
    "gewicht. Voor een voorspelling over weken telt vooral de langjarige frequentie."
)

EXPLAIN: Final[dict[str, str]] = {
    "PAI": (
        "Prediction Accuracy Index: aandeel van de incidenten in het voorspelde gebied gedeeld "
        "door het aandeel van het gebied (1 = toeval; bij 3 % van de cellen is 33 het maximum)."
    ),
    "trefkans": "hit rate: aandeel van alle incidenten van de toetsperiode dat in het "
    "voorspelde gebied viel.",
    "RRI": (
        "Recapture Rate Index: aandeel van het gebied in de toetsperiode gedeeld door zijn "
        "aandeel in het jaar ervoor; < 1 betekent dat de plekken 'afkoelen' (regressie naar "
        "het gemiddelde)."
    ),
}


def _to_fill(hint: str) -> dict[str, Any]:
    return {"waarde": None, "in_te_vullen": True, "toelichting": hint}


def _interval(comp: dict[str, Any]) -> str:
    """Return the paired bootstrap interval of a comparison in Dutch (empty when absent)."""
    if comp.get("ratio_low") is None:
        return ""
    verdict = (
        "het hele interval ligt boven 1"
        if comp["interval_above_one"]
        else "het interval omvat 1: geen aantoonbare winst"
    )
    return (
        f" 95 %-interval (bootstrap over startmomenten) {_num(comp['ratio_low'])}-"
        f"{_num(comp['ratio_high'])}: {verdict}."
    )


def _evaluation(doc: dict[str, Any] | None, data_version: str, category: str) -> dict[str, Any]:
    if doc is None:
        return {
            "beschikbaar": False,
            "toelichting": (
                "Nog geen backtest vastgelegd voor deze categorie: draai "
                f"`geo-service backtest --category {category}`."
            ),
            "uitleg": EXPLAIN,
        }
    meta = doc["metadata"]
    comp = meta["comparison"]
    table = methods_frame(doc)
    rows = [
        {k: (None if v != v else v) for k, v in r.items()}  # NaN -> None
        for r in table.to_dict(orient="records")
    ]
    stale = meta["data_version"] != data_version
    return {
        "beschikbaar": True,
        "uitgevoerd_op": meta["computed_at"],
        "gegevensversie": meta["data_version"],
        "verouderd": stale,
        "verouderd_toelichting": (
            "de gegevens zijn sinds deze backtest gewijzigd; draai hem opnieuw" if stale else None
        ),
        "opzet": {
            "ontwerp": "rolling origin: elk startmoment voorspelt uit eerdere gegevens alleen",
            "gegevensvenster": meta["data_window"],
            "startmomenten": meta["n_origins"],
            "eerste_startmoment": meta["origins"][0],
            "laatste_startmoment": meta["origins"][-1],
            "horizon_dagen": meta["horizon_days"],
            "dekking": meta["coverage"],
            "h3_resolutie": meta["h3_resolution"],
            "studiegebied": meta["study_area"]["definition"],
            "cellen": meta["study_area"]["n_cells"],
            "tijdresolutie": {"day": "dag", "month": "maand"}.get(
                meta["time_resolution"], meta["time_resolution"]
            ),
            "training": meta["training"],
            "covariaten": [
                c["category"] for c in (meta.get("covariates") or {}).get("categories", [])
            ],
        },
        "vergelijking": comp,
        "vergelijking_dynamisch": meta.get("comparison_dynamic"),
        "methoden": rows,
        "uitleg": EXPLAIN,
    }


def model_card(
    store: Store, db: Path | str, category: str, municipality: str | None = None
) -> dict[str, Any]:
    """Build the model card of the forecast for one category, in Algoritmeregister sections.

    Parameters
    ----------
    store
        The store (read only).
    db
        The database file; the latest backtest is read from beside it.
    category, municipality
        Which incidents the card describes.

    Returns
    -------
    dict
        The card; fields to be filled in by the municipality are
        ``{"waarde": None, "in_te_vullen": True, "toelichting": ...}``.

    Raises
    ------
    NotFoundError
        No incidents of the category.
    """
    flt = IncidentFilter(category=category, municipality=municipality)
    n = store.count_incidents(flt)
    if n == 0:
        raise NotFoundError(
            f"no incidents of category {category!r}; stored categories: "
            f"{', '.join(store.categories()) or 'none'} / geen incidenten van deze categorie"
        )
    first, last = store.data_window(flt)
    monthly = is_month_resolution(store.incident_points(flt)["occurred_from"])
    batches = store.batches()
    synthetic = store.has_demo_data()
    sources = sorted({str(f) for f in batches["file_name"]}) if not batches.empty else []
    zones = sorted({str(z) for z in batches["timezone"].dropna()}) if not batches.empty else []
    data_version = store.data_version()
    doc = latest_backtest(db, category, municipality)
    where = f" in {municipality}" if municipality else ""
    limitations = [
        TORONTO_RESULT,
        DYNAMIC_RESULT,
        "Toronto Police publiceert punten verschoven naar het dichtstbijzijnde kruispunt: "
        "cellen met een kruispunt krijgen daar te veel incidenten, cellen ertussen te weinig; "
        "de Toronto-cijfers erven die vertekening.",
        "Gegevens met alleen een maand per incident (zoals data.police.uk) worden op een "
        "maandklok getoetst: horizon van hele maanden, geen weekpatronen of near repeats.",
        "Het model kent alleen plaats en tijd van eerdere incidenten: geen gebouwen, "
        "gelegenheid, seizoen of evenementen; een plotselinge verandering ziet het pas achteraf.",
        "De resultaten gelden voor de getoetste periode en stad; per gemeente opnieuw toetsen.",
    ]
    if monthly:
        limitations.insert(
            0,
            f"Deze gegevens ({category}{where}) geven alleen de maand: de toets gebruikt de "
            "maandklok.",
        )
    if synthetic:
        limitations.insert(
            0,
            "De demo-gegevens zijn gedeeltelijk synthetisch (data/README.md): cijfers op de "
            "demo zeggen niets over de werkelijke nauwkeurigheid.",
        )
    return {
        "standaard": STANDARD,
        "gegenereerd_op": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "software": f"geo-service {__version__}",
        "gegevensversie": data_version,
        "algemeen": {
            "naam": f"Hotspotvoorspelling {category}{where} (geo-service, methode {OWN_METHOD})",
            "organisatie": _to_fill("naam van de gemeente en de verantwoordelijke afdeling"),
            "korte_omschrijving": (
                f"Rangschikt H3-cellen naar het verwachte aantal incidenten '{category}' in de "
                "komende periode, op basis van eerdere geregistreerde incidenten. Het hoogste "
                "deel (standaard 3 % van de cellen) vormt het voorspelde gebied."
            ),
            "status": _to_fill("in ontwikkeling / in gebruik / buiten gebruik, en sinds wanneer"),
        },
        "verantwoord_gebruik": {
            "doel": (
                "Gebiedsgericht werken: helpen kiezen waar preventie (voorlichting, "
                "inbraakpreventie, toezicht, cameratoezicht) de meeste incidenten kan raken, en "
                "die keuze toetsbaar maken met vaste maten (PAI, trefkans, RRI)."
            ),
            "impact": (
                "Het algoritme neemt geen besluiten over personen en gebruikt geen "
                "persoonskenmerken. Het beïnvloedt waar capaciteit wordt ingezet; buurten in "
                "het voorspelde gebied krijgen meer aandacht, andere minder."
            ),
            "juridische_grondslag": _to_fill(
                "de wettelijke taak en bevoegdheid waarop de inzet rust, en bij verwerking van "
                "persoonsgegevens de AVG-grondslag (art. 6); te bepalen door een jurist van de "
                "gemeente"
            ),
            "impacttoetsen": _to_fill(
                "uitgevoerde DPIA en/of IAMA (datum, uitkomst), of waarom die niet nodig zijn"
            ),
            "menselijke_tussenkomst": {
                "werking": (
                    "De uitkomst is een advieskaart. Een analist bekijkt kaart en evaluatie "
                    "(geo-service backtest, dit document) voordat die wordt gedeeld; mensen "
                    "besluiten over inzet, duur en vorm. Er is geen automatische koppeling "
                    "naar roosters of maatregelen."
                ),
                "wie_beslist": _to_fill(
                    "welke functie of overleg (bijv. de Driehoek) over inzet beslist"
                ),
            },
            "risicos": [
                {
                    "risico": "terugkoppeling (feedback loop)",
                    "beschrijving": (
                        "Waar gesurveilleerd wordt, wordt meer gezien en geregistreerd; die "
                        "registraties trekken de volgende voorspelling naar dezelfde plekken. "
                        "Sterk bij delicten die door toezicht worden ontdekt (overlast), "
                        "zwakker bij delicten die bewoners zelf melden (woninginbraak)."
                    ),
                    "maatregel": (
                        "Leg vast waar en wanneer extra inzet was; toets na elke periode "
                        "opnieuw (geo-service backtest) en vergelijk met de eenvoudige "
                        "methoden; tel door toezicht ontdekte incidenten apart waar mogelijk. "
                        "covrate leest ook de andere categorieën: laat door toezicht ontdekte "
                        "categorieën (overlast, drugs) weg met geo-service backtest "
                        "--covariates, en vergelijk met --no-covariates."
                    ),
                },
                {
                    "risico": "vertekening (bias)",
                    "beschrijving": (
                        "Het model leert geregistreerde incidenten, niet de werkelijke "
                        "criminaliteit: aangiftebereidheid en meldgedrag verschillen per buurt "
                        "en groep. Buurten met weinig aangiften lijken veiliger; een kaart kan "
                        "buurten stigmatiseren."
                    ),
                    "maatregel": (
                        "Gebruik de kaart met kennis van de wijk (wijkagent, handhaving, "
                        "bewoners); publiceer geen ranglijst van buurten; vergelijk met "
                        "slachtofferenquêtes (Veiligheidsmonitor) waar beschikbaar."
                    ),
                },
                {
                    "risico": "privacy",
                    "beschrijving": (
                        "Plaats en tijd van een incident kunnen naar een huishouden wijzen "
                        "(persoonsgegevens). Cellen van ~125 m met één incident zijn "
                        "herleidbaar."
                    ),
                    "maatregel": (
                        "Kijkers zien alleen afgeronde aantallen vanaf k (standaard 5), "
                        "perioden van hele maanden (minstens 3) en resolutie ≤ 10; exacte "
                        "gegevens alleen met een analistensleutel; elk gebruik wordt gelogd "
                        "(README, Privacy model)."
                    ),
                },
                {
                    "risico": "verplaatsing en schijnprecisie",
                    "beschrijving": (
                        "Inzet kan incidenten naar buurcellen verplaatsen; en de winst ten "
                        "opzichte van eenvoudig tellen is klein (zie evaluatie), zodat de "
                        "kaart preciezer lijkt dan ze is."
                    ),
                    "maatregel": (
                        "Vermeld bij elke kaart de evaluatie en de eenvoudige vergelijking; "
                        "kijk bij evaluatie van inzet ook naar de omliggende cellen."
                    ),
                },
            ],
        },
        "werking": {
            "gegevens": {
                "categorie": category,
                "gemeente": municipality,
                "aantal_incidenten": n,
                "eerste_incident": first.isoformat() if first else None,
                "laatste_incident": last.isoformat() if last else None,
                "tijdresolutie": "maand" if monthly else "tijdstip (lokale kloktijd)",
                "categorieen_in_opslag": store.categories(),
                "bronbestanden": sources,
                "tijdzones": zones,
                "gedeeltelijk_synthetisch": synthetic,
                "toelichting": (
                    "De demo-gegevens zijn gedeeltelijk synthetisch: echte wijk- en "
                    "buurtgrenzen en echte maandtellingen per buurt, maar elk incidentpunt is "
                    "gegenereerd (data/README.md)."
                    if synthetic
                    else "Geregistreerde incidenten zoals ingelezen (geo-service ingest)."
                ),
                "bewaartermijn": _to_fill("hoe lang de incidentgegevens worden bewaard"),
            },
            "technische_werking": {
                "methode": OWN_METHOD,
                "beschrijving": (
                    "Per cel: de incidentfrequentie in losse vensters terug in de tijd (de "
                    "laatste horizon, de horizon daarvoor, tot 91 dagen, een half jaar, 1, 2 en "
                    "3 jaar en alles daarvoor), de gemiddelde frequentie van de buurcellen "
                    "(ook over de laatste 4 en 13 weken) en de frequentie van elke andere "
                    "categorie in de opslag in de cel en haar buurcellen (als maat voor "
                    "blootstelling: mensen, woningen, activiteit). De gewichten (≥ 0) worden "
                    "bij elk startmoment opnieuw geschat met niet-negatieve kleinste kwadraten "
                    "op het jaar ervoor (aantallen over een kwartaal). Uitkomst: het verwachte "
                    "aantal incidenten per cel in de komende horizon."
                ),
                "covariaten": (
                    "alle andere categorieën in de opslag (geo-service backtest --covariates "
                    "of --no-covariates kiest anders); zie de backtest-metadata"
                ),
                "eenvoudige_methoden": (
                    "tellen per cel over 90/365/730/1095 dagen en over alle jaren, "
                    "kerndichtheid (KDE), prospective hotspotting, Gi*, willekeurig"
                ),
                "ruimtelijke_eenheid": (
                    "H3-cellen (resolutie 9 ≈ 350 m, 10 ≈ 125 m), één vast studiegebied"
                ),
                "broncode": (
                    "spatial/forecast/covrate.py (covrate), spatial/forecast/methods.py "
                    "(overige methoden), spatial/forecast/selfexciting.py "
                    "(zelf-exciterend model), spatial/forecast/backtest.py (toets)"
                ),
            },
            "evaluatie": _evaluation(doc, data_version, category),
            "bekende_beperkingen": limitations,
        },
    }


def _value(v: Any) -> str:
    if isinstance(v, dict) and v.get("in_te_vullen"):
        return f"**[{TO_FILL}]** {v['toelichting']}"
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "ja" if v else "nee"
    if isinstance(v, list):
        return ", ".join(str(x) for x in v) or "-"
    return str(v)


def _num(v: Any, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}".replace(".", ",")


def model_card_markdown(card: dict[str, Any]) -> str:
    """Render a model card (:func:`model_card`) as Markdown."""
    alg, use, op = card["algemeen"], card["verantwoord_gebruik"], card["werking"]
    out = [f"# Algoritmebeschrijving: {alg['naam']}", "", f"*{card['standaard']}.*", ""]
    out += ["## Algemene informatie", ""]
    for label, key in (
        ("Naam", "naam"),
        ("Organisatie", "organisatie"),
        ("Korte omschrijving", "korte_omschrijving"),
        ("Status", "status"),
    ):
        out.append(f"- **{label}:** {_value(alg[key])}")
    out += ["", "## Verantwoord gebruik", "", "### Doel en impact", "", use["doel"], ""]
    out += [use["impact"], "", "### Juridische grondslag", "", _value(use["juridische_grondslag"])]
    out += ["", "### Impacttoetsen", "", _value(use["impacttoetsen"]), ""]
    mt = use["menselijke_tussenkomst"]
    out += ["### Menselijke tussenkomst", "", mt["werking"], ""]
    out += [f"- **Wie beslist:** {_value(mt['wie_beslist'])}", "", "### Risico's", ""]
    for r in use["risicos"]:
        out.append(f"- **{r['risico']}.** {r['beschrijving']} *Maatregel:* {r['maatregel']}")
    out += ["", "## Werking", "", "### Gegevens", ""]
    labels = {
        "categorie": "Categorie",
        "gemeente": "Gemeente",
        "aantal_incidenten": "Aantal incidenten",
        "eerste_incident": "Eerste incident",
        "laatste_incident": "Laatste incident",
        "tijdresolutie": "Tijdresolutie",
        "categorieen_in_opslag": "Categorieën in de opslag",
        "bronbestanden": "Bronbestanden",
        "tijdzones": "Tijdzones",
        "gedeeltelijk_synthetisch": "Gedeeltelijk synthetisch",
        "bewaartermijn": "Bewaartermijn",
    }
    gd = op["gegevens"]
    out += [f"- **{label}:** {_value(gd[key])}" for key, label in labels.items()]
    out += ["", gd["toelichting"], "", "### Technische werking", ""]
    tw = op["technische_werking"]
    out += [f"Methode `{tw['methode']}`. {tw['beschrijving']}", ""]
    out += [f"- **Covariaten:** {tw['covariaten']}"]
    out += [f"- **Eenvoudige methoden ter vergelijking:** {tw['eenvoudige_methoden']}"]
    out += [f"- **Ruimtelijke eenheid:** {tw['ruimtelijke_eenheid']}"]
    out += [f"- **Broncode:** {tw['broncode']}", "", "### Evaluatie", ""]
    ev = op["evaluatie"]
    if not ev["beschikbaar"]:
        out += [ev["toelichting"], ""]
    else:
        o, comp = ev["opzet"], ev["vergelijking"]
        dw = o["gegevensvenster"]
        out += [
            f"Laatste backtest: {ev['uitgevoerd_op']} (gegevensversie {ev['gegevensversie']}"
            + (f"; **verouderd**: {ev['verouderd_toelichting']}" if ev["verouderd"] else "")
            + ").",
            "",
            f"- **Gegevensvenster:** incidenten {dw['first_incident']} t/m {dw['last_incident']}; "
            f"getoetst {dw['test_start']} t/m {dw['test_end']}",
            f"- **Opzet:** {o['startmomenten']} startmomenten ({o['eerste_startmoment']} t/m "
            f"{o['laatste_startmoment']}), horizon {o['horizon_dagen']:g} dagen, voorspeld gebied "
            f"{_num(o['dekking'] * 100, 1)} % van {o['cellen']} H3-cellen "
            f"(resolutie {o['h3_resolutie']}), "
            f"tijdresolutie {o['tijdresolutie']}; {o['training']}",
            f"- **Studiegebied:** {o['studiegebied']}",
            "- **Covariaten van covrate:** "
            + (", ".join(o["covariaten"]) if o["covariaten"] else "geen"),
        ]
        if comp.get("ratio") is not None:
            out.append(
                f"- **Uitkomst:** {comp['method']} gemiddelde PAI {_num(comp['mean_pai'])} tegen "
                f"{_num(comp['best_baseline_mean_pai'])} voor de beste eenvoudige methode "
                f"({comp['best_baseline']}) = **{_num(comp['ratio'])}x: {comp['verdict']}**; "
                f"doel {_num(comp['goal_ratio'], 2)}x "
                f"{'gehaald' if comp['goal_met'] else 'niet gehaald'}; beter op "
                f"{comp['origins_won']} van {comp['origins_compared']} startmomenten "
                f"({comp['origins_tied']} gelijk)." + _interval(comp)
            )
            dyn = ev.get("vergelijking_dynamisch")
            if dyn and dyn.get("ratio") is not None:
                out.append(
                    f"- **Zelf-exciterend model ({dyn['method']}):** gemiddelde PAI "
                    f"{_num(dyn['mean_pai'])} = **{_num(dyn['ratio'])}x** de beste eenvoudige "
                    f"methode ({dyn['best_baseline']}): {dyn['verdict']}." + _interval(dyn)
                )
        else:
            out.append(f"- **Uitkomst:** {comp.get('note', '-')}")
        out += [
            "",
            "| methode | basislijn | startmomenten | gem. PAI | mediaan PAI | trefkans | RRI |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        for r in ev["methoden"]:
            out.append(
                f"| {r['method']} | {'ja' if r['baseline'] else 'nee'} | {r['origins']} | "
                f"{_num(r['mean_pai'])} | {_num(r['median_pai'])} | {_num(r['hit_rate'])} | "
                f"{_num(r['rri'])} |"
            )
        out.append("")
    out += [f"- **{k}:** {v}" for k, v in ev["uitleg"].items()]
    out += ["", "### Bekende beperkingen", ""]
    out += [f"- {item}" for item in op["bekende_beperkingen"]]
    out += [
        "",
        "---",
        f"Gegenereerd {card['gegenereerd_op']} door {card['software']} uit gegevensversie "
        f"{card['gegevensversie']}. Velden gemarkeerd [{TO_FILL}] vult de gemeente in.",
        "",
    ]
    return "\n".join(out)
