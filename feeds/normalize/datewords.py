"""The words of date lines: Published/Updated labels, month and weekday names, fillers,
a.m./p.m. and UTC words, casefolded and NFC, in en, fr, es, de, it, pt, nl and ar.
``feeds.normalize.dates`` reads date lines with them."""

from __future__ import annotations

import re
from typing import Literal

DateKind = Literal["published", "updated", "plain"]

_PUBLISHED_LABELS = """
published | published on | published at | first published | originally published | posted |
posted on | posted at | date | dated | publish date | published date | date posted | created |
created on | created at | date published | publication date | release date |
publié | publié le | publiée le | publié à | mis en ligne | mis en ligne le | date de publication |
publicado | publicado el | publicada el | publicado en | publicado a las | fecha de publicación |
publicado em | publicada em | data de publicação |
veröffentlicht | veröffentlicht am | erschienen | erschienen am | erstellt am | datum |
pubblicato | pubblicato il | pubblicata il | data di pubblicazione | data |
gepubliceerd | gepubliceerd op | geplaatst op | datum van publicatie |
نشر | نشر في | نُشر | نُشر في | تم النشر | تم النشر في | تم نشره | تم نشره في | تاريخ النشر | بتاريخ |
time | this content was published on | this article was published on | كتب في | كُتب في
"""
_UPDATED_LABELS = """
updated | updated on | updated at | last updated | last update | update | last updated at |
last updated on | last modified | modified |
revised | last revised | edited |
mis à jour | mis à jour le | mise à jour | mise à jour le | dernière mise à jour | modifié le |
actualizado | actualizado el | actualizada el | actualizado a las | última actualización |
modificado el |
aktualisiert | aktualisiert am | zuletzt aktualisiert | zuletzt aktualisiert am | stand |
geändert am |
aggiornato | aggiornato il | aggiornata il | ultimo aggiornamento | modificato il |
atualizado | atualizado em | atualizada em | última atualização | modificado em |
bijgewerkt | bijgewerkt op | laatst bijgewerkt | laatst bijgewerkt op | gewijzigd op |
آخر تحديث | تم التحديث | تم التحديث في | تحديث | محدث | حدث في | آخر تعديل
"""


def _words(block: str) -> frozenset[str]:
    return frozenset(block.split())


def _phrases(block: str) -> list[str]:
    return [p.strip() for p in block.replace("\n", " ").split("|") if p.strip()]


_LABELS: dict[str, DateKind] = {p: "published" for p in _phrases(_PUBLISHED_LABELS)}
_LABELS.update({p: "updated" for p in _phrases(_UPDATED_LABELS)})
#: every date label, as written in lower case ("published", "mis à jour le", "stand")
DATE_LABELS = frozenset(_LABELS)
_LABEL_RE = re.compile(
    "(?:"
    + "|".join(re.escape(p) for p in sorted(_LABELS, key=len, reverse=True))
    + r")(?=[\s:：\-–—]|$)[\s:：\-–—]*"
)

_MONTH_NAMES: dict[int, str] = {
    1: "january jan janvier janv enero ene januar jänner jän gennaio gen janeiro januari "
    "يناير كانون_الثاني جانفي",
    2: "february feb febr février fevrier févr fevr febrero februar febbraio fevereiro fev "
    "februari فبراير شباط فيفري",
    3: "march mar mars marzo märz maerz mär março marco maart mrt مارس آذار اذار",
    4: "april apr avril avr abril abr aprile aprilie أبريل ابريل إبريل نيسان أفريل افريل",
    5: "may mai mayo maggio mag maio mei مايو أيار ايار ماي",
    6: "june jun juin junio juni giugno giu junho يونيو يونيه حزيران جوان",
    7: "july jul juillet juil julio juli luglio lug julho يوليو يوليه تموز يوليوز جويلية",
    8: "august aug août aout agosto ago augustus أغسطس اغسطس آب اب غشت أوت اوت",
    9: "september sep sept septembre septiembre setiembre set settembre setembro "
    "سبتمبر أيلول ايلول شتنبر",
    10: "october oct octobre octubre oktober okt ottobre ott outubro out "
    "أكتوبر اكتوبر تشرين_الأول تشرين_الاول",
    11: "november nov novembre noviembre novembro نوفمبر تشرين_الثاني نونبر",
    12: "december dec décembre decembre déc diciembre dic dezember dez dicembre dezembro "
    "ديسمبر كانون_الأول كانون_الاول دجنبر",
}
_MONTHS: dict[str, int] = {
    name: number for number, names in _MONTH_NAMES.items() for name in names.split()
}
# Two-word month names (Levantine Arabic) are joined with "_" into one token before classifying.
_TWO_WORD_MONTHS = {name.replace("_", " "): name for name in _MONTHS if "_" in name}

_WEEKDAYS = _words(
    """
    monday mon tuesday tue tues wednesday wed thursday thu thur thurs friday fri saturday sat
    sunday sun
    lundi mardi mercredi jeudi vendredi samedi dimanche lun mer jeu ven sam dim
    lunes martes miércoles miercoles jueves viernes sábado sabado domingo mié mie jue vie sáb dom
    montag dienstag mittwoch donnerstag freitag samstag sonnabend sonntag mo di mi do fr sa so
    lunedì lunedi martedì martedi mercoledì mercoledi giovedì giovedi venerdì venerdi sabato
    domenica gio sab
    segunda-feira terça-feira terca-feira quarta-feira quinta-feira sexta-feira segunda terça
    terca quarta quinta sexta seg ter qua qui sex sáb
    maandag dinsdag woensdag donderdag vrijdag zaterdag zondag ma wo vr za zo
    الاثنين الإثنين الأثنين الثلاثاء الأربعاء الاربعاء الخميس الجمعة السبت الأحد الاحد
    """
)
_WEEKDAY_OR_MONTH = frozenset({"mar"})  # March, or Tuesday (mardi, martes, martedì)
# Words that join the parts of a date or introduce its time.
_FILLERS = _words(
    """
    de del of the on at le el am um uhr à a las la en em il alle ore às as om den der du dem
    um h hrs hours kl. kl - – — , ، في يوم الساعة الموافق
    """
)
_AM = frozenset({"am", "a.m", "a.m.", "ص", "صباحا", "صباحًا", "صباحاً"})
_PM = frozenset({"pm", "p.m", "p.m.", "مساء", "مساءً", "مساءا"})
_UTC_WORDS = frozenset({"gmt", "utc", "ut", "z", "zulu", "wet"})
