"""The world rendered as HubSpot CRM v3 objects (contacts, companies, deals) and their property
catalog.

Shapes follow the real API (see docs/real-apis.md): every property value is a
string or null, numbers included; datetimes are ISO with milliseconds and ``Z``; ids are numeric
strings.
"""

import struct
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from testbench.mock_apis import dirty
from testbench.mock_apis.model import CLOSED_LOST, CLOSED_WON, DEAL_STAGES, Company, Deal
from testbench.mock_apis.pools import INDUSTRIES
from testbench.mock_apis.rng import chance, digest, key, pick
from testbench.mock_apis.timeline import DAY, hubspot_time
from testbench.mock_apis.world import (
    COMPANY_ID_BASE,
    CONTACT_ID_BASE,
    DEAL_ID_BASE,
    PEOPLE_PER_COMPANY,
    Kind,
    World,
)

Record = dict[str, Any]
Properties = dict[str, str | None]

CONTACTS, COMPANIES, DEALS = "contacts", "companies", "deals"
# Every name the API accepts for each object type, as in /crm/v3/objects/{type}.
OBJECT_TYPES = {
    "contacts": CONTACTS,
    "contact": CONTACTS,
    "0-1": CONTACTS,
    "companies": COMPANIES,
    "company": COMPANIES,
    "0-2": COMPANIES,
    "deals": DEALS,
    "deal": DEALS,
    "0-3": DEALS,
}
SINGULAR = {CONTACTS: "contact", COMPANIES: "company", DEALS: "deal"}

LIFECYCLE_STAGES = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)
LEAD_STATUSES = ("NEW", "OPEN", "IN_PROGRESS", "OPEN_DEAL", "UNQUALIFIED", "CONNECTED")
OWNER_IDS = tuple(str(71_000_000 + 4_099 * n) for n in range(8))
# The random fields of a contact's and a company's HubSpot-only attributes (H: 16 bits, I: 32 bits).
CONTACT_FIELDS = struct.Struct("<8HI")
COMPANY_FIELDS = struct.Struct("<4HI")


@dataclass(frozen=True, slots=True)
class PropertyDefinition:
    name: str
    label: str
    type: str  # string | number | datetime | enumeration | bool
    options: tuple[str, ...] = ()

    @property
    def field_type(self) -> str:
        return {
            "string": "text",
            "number": "number",
            "datetime": "date",
            "enumeration": "select",
            "bool": "booleancheckbox",
        }[self.type]


def _p(
    name: str, label: str, type_: str = "string", options: tuple[str, ...] = ()
) -> PropertyDefinition:
    return PropertyDefinition(name, label, type_, options)


# The catalog /crm/v3/properties/{type} serves: exactly the properties the objects carry.
PROPERTY_CATALOG: dict[str, tuple[PropertyDefinition, ...]] = {
    CONTACTS: (
        _p("createdate", "Create Date", "datetime"),
        _p("email", "Email"),
        _p("firstname", "First Name"),
        _p("lastname", "Last Name"),
        _p("hs_object_id", "Record ID", "number"),
        _p("lastmodifieddate", "Last Modified Date", "datetime"),
        _p("phone", "Phone Number"),
        _p("company", "Company Name"),
        _p("jobtitle", "Job Title"),
        _p("lifecyclestage", "Lifecycle Stage", "enumeration", LIFECYCLE_STAGES),
        _p("hs_lead_status", "Lead Status", "enumeration", LEAD_STATUSES),
        _p("country", "Country/Region"),
        _p("city", "City"),
        _p("hubspot_owner_id", "Contact owner", "enumeration", OWNER_IDS),
        _p("associatedcompanyid", "Primary Associated Company ID", "number"),
    ),
    COMPANIES: (
        _p("name", "Name"),
        _p("domain", "Company Domain Name"),
        _p("createdate", "Create Date", "datetime"),
        _p("hs_lastmodifieddate", "Last Modified Date", "datetime"),
        _p("hs_object_id", "Record ID", "number"),
        _p("industry", "Industry", "enumeration", INDUSTRIES),
        _p("numberofemployees", "Number of Employees", "number"),
        _p("annualrevenue", "Annual Revenue", "number"),
        _p("country", "Country/Region"),
        _p("city", "City"),
        _p("lifecyclestage", "Lifecycle Stage", "enumeration", LIFECYCLE_STAGES),
    ),
    DEALS: (
        _p("dealname", "Deal Name"),
        _p("amount", "Amount", "number"),
        _p("closedate", "Close Date", "datetime"),
        _p("pipeline", "Pipeline", "enumeration", ("default",)),
        _p("dealstage", "Deal Stage", "enumeration", DEAL_STAGES),
        _p("createdate", "Create Date", "datetime"),
        _p("hs_lastmodifieddate", "Last Modified Date", "datetime"),
        _p("hs_object_id", "Record ID", "number"),
        _p("hubspot_owner_id", "Deal owner", "enumeration", OWNER_IDS),
        _p("hs_is_closed_won", "Is Closed Won", "bool"),
        _p("hs_is_closed", "Is Deal Closed?", "bool"),
    ),
}

ALL_PROPERTIES = {
    object_type: tuple(definition.name for definition in catalog)
    for object_type, catalog in PROPERTY_CATALOG.items()
}
DEFAULT_PROPERTIES = {
    CONTACTS: ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
    COMPANIES: ("name", "domain", "createdate", "hs_lastmodifieddate", "hs_object_id"),
    DEALS: (
        "dealname",
        "amount",
        "closedate",
        "pipeline",
        "dealstage",
        "createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
    ),
}
# The real API adds these to whatever properties were asked for.
ALWAYS_RETURNED = {
    CONTACTS: ("createdate", "hs_object_id", "lastmodifieddate"),
    COMPANIES: ("createdate", "hs_lastmodifieddate", "hs_object_id"),
    DEALS: ("createdate", "hs_lastmodifieddate", "hs_object_id"),
}


def property_definition(definition: PropertyDefinition, object_type: str) -> Record:
    return {
        "name": definition.name,
        "label": definition.label,
        "type": definition.type,
        "fieldType": definition.field_type,
        "groupName": f"{SINGULAR[object_type]}information",
        "description": "",
        "options": [
            {"label": value, "value": value, "displayOrder": order, "hidden": False}
            for order, value in enumerate(definition.options)
        ],
        "hidden": False,
        "hasUniqueValue": definition.name == "hs_object_id",
        "formField": definition.type != "datetime",
    }


def select_properties(object_type: str, requested: Collection[str] | None) -> tuple[str, ...]:
    """The names to return: the defaults, or the known ones asked for plus those always returned."""
    if not requested:
        return DEFAULT_PROPERTIES[object_type]
    known = {definition.name for definition in PROPERTY_CATALOG[object_type]}
    wanted = dict.fromkeys((*ALWAYS_RETURNED[object_type], *requested))
    return tuple(name for name in wanted if name in known)


def _object(object_id: int, properties: Properties, created: str, updated: str) -> Record:
    return {
        "id": str(object_id),
        "properties": properties,
        "createdAt": created,
        "updatedAt": updated,
        "archived": False,
    }


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _edit_ms(world: World, created_ms: int, delay_seconds: int) -> int | None:
    """When a salesperson edits the object, ``delay_seconds`` after creation, or None if that is
    still in the future (the edit has not happened yet)."""
    edited_ms = created_ms + delay_seconds * 1000
    return edited_ms if edited_ms < world.now_ts * 1000 else None


def contact(
    world: World,
    contact_index: int,
    names: Collection[str],
    associations: Collection[str],
    with_defect: bool = True,
) -> Record:
    """A contact: one per person in HubSpot, then (past ``contact_count``) the duplicate
    records a dirty world carries (``with_defect=False``: as if it carried no defect)."""
    if contact_index >= world.contact_count:
        return _duplicate_contact(world, contact_index - world.contact_count, names)
    person = world.person(world.contact_person(contact_index))
    (
        ms_pick, stage_pick, phone_roll, job_roll, lead_roll, lead_pick, owner_roll, owner_pick,
        modified_delay,
    ) = CONTACT_FIELDS.unpack_from(digest(world.seed, Kind.CONTACT, person.index))  # fmt: skip
    contact_id = world.contact_id(person.index)
    # HubSpot keeps milliseconds; the world's times are whole seconds.
    created_ms = person.created_ts * 1000 + ms_pick % 1000
    edited_ms = _edit_ms(world, created_ms, modified_delay % (90 * DAY))
    modified_ms = created_ms if edited_ms is None else edited_ms
    deal = world.deal_of(person.index)
    if deal is None:
        stage = pick(LIFECYCLE_STAGES[:4], stage_pick)
    elif deal.stage_at(world.now_ts) == CLOSED_WON:
        stage = "customer"
        modified_ms = max(modified_ms, deal.close_ms)  # the stage changed when the deal closed
    else:
        stage = "opportunity"
        modified_ms = max(modified_ms, deal.created_ms)
    company_id = str(COMPANY_ID_BASE + person.company)
    everything: Properties = {
        "createdate": hubspot_time(created_ms),
        "email": person.hubspot_email,
        "firstname": person.first_name or None,
        "lastname": person.last_name or None,
        "hs_object_id": str(contact_id),
        "lastmodifieddate": hubspot_time(modified_ms),
        "phone": person.phone if chance(phone_roll, 0.6) else None,
        "company": world.company_name(person.company),
        "jobtitle": person.job_title if chance(job_roll, 0.7) else None,
        "lifecyclestage": stage,
        # The edit is the salesperson qualifying the lead.
        "hs_lead_status": pick(LEAD_STATUSES, lead_pick)
        if edited_ms is not None and chance(lead_roll, 0.8)
        else None,
        "country": person.place.country_code,
        "city": person.place.city,
        "hubspot_owner_id": pick(OWNER_IDS, owner_pick) if chance(owner_roll, 0.8) else None,
        "associatedcompanyid": company_id,
    }
    if with_defect:
        _soil_contact(world, person.index, everything)
    record = _object(
        contact_id,
        {name: everything[name] for name in names},
        everything["createdate"],
        everything["lastmodifieddate"],
    )
    links = {}
    if COMPANIES in associations:
        links[COMPANIES] = [(company_id, "contact_to_company")]
    if DEALS in associations and deal is not None:
        links[DEALS] = [(str(deal.id), "contact_to_deal")]
    return _with_associations(record, links)


def _soil_contact(world: World, person: int, properties: Properties) -> None:
    defect = world.defect(dirty.Stream.CONTACTS, person)
    value = dirty.roll(world.seed, dirty.Stream.CONTACTS, person)
    if defect == dirty.INVALID_EMAIL:
        properties["email"] = dirty.invalid_email(world.person(person).email, value)
    elif defect == dirty.MIXED_CASE:
        for name in ("firstname", "lastname", "city"):
            if properties[name]:
                properties[name] = dirty.mixed_case(properties[name], value)
    elif defect == dirty.EMPTY_STRING:
        properties["phone"] = ""  # cleared in the UI: HubSpot keeps an empty string
        for name in ("firstname", "lastname"):
            properties[name] = properties[name] or ""
    elif defect == dirty.COUNTRY_SPELLING:
        properties["country"] = dirty.country(properties["country"] or "", value)


def _duplicate_contact(world: World, duplicate: int, names: Collection[str]) -> Record:
    """A second record of a contact's person, imported again: another id, the email in other
    case or spacing, no company."""
    original = contact(
        world, world.duplicated_contact(duplicate), ALL_PROPERTIES[CONTACTS], (), False
    )
    person = world.person(world.contact_person(world.duplicated_contact(duplicate)))
    value = dirty.roll(world.seed, dirty.Stream.CONTACTS, person.index)
    duplicate_id = str(dirty.DUPLICATE_CONTACT_ID_BASE + duplicate)
    everything = {
        **original["properties"],
        "hs_object_id": duplicate_id,
        "email": dirty.duplicate_email(person.email, value),
        "associatedcompanyid": None,
    }
    return {
        **original,
        "id": duplicate_id,
        "properties": {name: everything[name] for name in names},
    }


def company(
    world: World, company_index: int, names: Collection[str], associations: Collection[str]
) -> Record:
    """A company. Its reverse associations (to contacts, deals) are not served: they need a scan."""
    item = world.company(company_index)
    ms_pick, industry_roll, revenue_roll, stage_pick, modified_delay = COMPANY_FIELDS.unpack_from(
        digest(world.seed, Kind.COMPANY, company_index, 1)
    )
    created_ms = item.created_ts * 1000 + ms_pick % 1000
    edited_ms = _edit_ms(world, created_ms, modified_delay % (120 * DAY))
    modified_ms = created_ms if edited_ms is None else edited_ms
    everything: Properties = {
        "name": item.name,
        "domain": item.domain,
        "createdate": hubspot_time(created_ms),
        "hs_lastmodifieddate": hubspot_time(modified_ms),
        "hs_object_id": str(COMPANY_ID_BASE + company_index),
        "industry": item.industry if chance(industry_roll, 0.8) else None,
        "numberofemployees": str(item.employees),
        "annualrevenue": str(item.annual_revenue) if chance(revenue_roll, 0.6) else None,
        "country": item.place.country_code,
        "city": item.place.city,
        # The edit moves the company along the lifecycle.
        "lifecyclestage": "lead"
        if edited_ms is None
        else pick(("opportunity", "customer"), stage_pick),
    }
    _soil_company(world, item, everything)
    return _object(
        COMPANY_ID_BASE + company_index,
        {name: everything[name] for name in names},
        everything["createdate"],
        everything["hs_lastmodifieddate"],
    )


def _soil_company(world: World, item: Company, properties: Properties) -> None:
    defect = world.defect(dirty.Stream.COMPANIES, item.index)
    value = dirty.roll(world.seed, dirty.Stream.COMPANIES, item.index)
    if defect == dirty.INDUSTRY_SPELLING:
        properties["industry"] = dirty.industry(item.industry, value)
    elif defect == dirty.COUNTRY_SPELLING:
        properties["country"] = dirty.country(item.place.country_code, value)
    elif defect == dirty.EMPTY_STRING:
        properties["domain"] = ""
    elif defect == dirty.MIXED_CASE:
        properties["name"] = dirty.mixed_case(item.name, value)


def _served_amount(world: World, item: Deal) -> str | None:
    defect = world.defect(dirty.Stream.DEALS, item.person)
    if defect == dirty.MISSING_AMOUNT:
        return None  # a number property with no value
    if defect == dirty.AMOUNT_FORMAT:
        value = dirty.roll(world.seed, dirty.Stream.DEALS, item.person)
        return dirty.amount(item.amount_cents, value)
    return f"{item.amount_cents / 100:.2f}"


def deal(world: World, item: Deal, names: Collection[str], associations: Collection[str]) -> Record:
    person = world.person(item.person)
    stage = item.stage_at(world.now_ts)
    is_closed = stage in (CLOSED_WON, CLOSED_LOST)
    owner_roll = key(world.seed, Kind.DEAL, item.person, 2)
    everything: Properties = {
        "dealname": f"{world.company_name(person.company)} - {item.product}",
        "amount": _served_amount(world, item),
        "closedate": hubspot_time(item.close_ms),  # for an open deal, the expected close date
        "pipeline": "default",
        "dealstage": stage,
        "createdate": hubspot_time(item.created_ms),
        "hs_lastmodifieddate": hubspot_time(item.modified_ms_at(world.now_ts)),
        "hs_object_id": str(item.id),
        "hubspot_owner_id": OWNER_IDS[owner_roll % len(OWNER_IDS)],
        "hs_is_closed_won": _flag(stage == CLOSED_WON),
        "hs_is_closed": _flag(is_closed),
    }
    record = _object(
        item.id,
        {name: everything[name] for name in names},
        everything["createdate"],
        everything["hs_lastmodifieddate"],
    )
    links = {}
    if CONTACTS in associations:
        links[CONTACTS] = [(str(world.contact_id(item.person)), "deal_to_contact")]
    if COMPANIES in associations:
        links[COMPANIES] = [(str(COMPANY_ID_BASE + person.company), "deal_to_company")]
    return _with_associations(record, links)


def _with_associations(record: Record, links: dict[str, list[tuple[str, str]]]) -> Record:
    """Add ``associations`` as the real API does: only for types that have at least one."""
    if links:
        record["associations"] = {
            to_type: {"results": [{"id": to_id, "type": kind} for to_id, kind in pairs]}
            for to_type, pairs in links.items()
        }
    return record


def find(
    world: World,
    object_type: str,
    object_id: str,
    names: Collection[str],
    associations: Collection[str],
) -> Record | None:
    """One object by its id, or None if no such object exists now."""
    if not object_id.isdigit():
        return None
    number = int(object_id)
    if object_type == CONTACTS:
        index = number - CONTACT_ID_BASE
        if 0 <= index < world.contact_count:
            return contact(world, index, names, associations)
        duplicate = number - dirty.DUPLICATE_CONTACT_ID_BASE
        if 0 <= duplicate < world.duplicate_count:
            return contact(world, world.contact_count + duplicate, names, associations)
    elif object_type == COMPANIES:
        index = number - COMPANY_ID_BASE
        if 0 <= index < world.company_count:
            return company(world, index, names, associations)
    else:
        person = number - DEAL_ID_BASE
        item = world.deal_of(person) if person >= 0 else None
        if item is not None:
            return deal(world, item, names, associations)
    return None


def associated_ids(
    world: World, from_type: str, to_type: str, ids: Collection[str]
) -> dict[str, list[str]]:
    """The ids of ``to_type`` objects associated with each of ``ids`` (unknown ids: none).

    Contacts and deals carry their links; a company's are found by a scan of the people from its
    first possible member on (slow at a million people: ask from the contact or deal side).
    """
    if from_type != COMPANIES:
        linked = {}
        for object_id in ids:
            record = find(world, from_type, object_id, (), (to_type,)) or {}
            results = record.get("associations", {}).get(to_type, {}).get("results", [])
            linked[object_id] = [item["id"] for item in results]
        return linked
    wanted = {
        int(i) - COMPANY_ID_BASE: i
        for i in ids
        if i.isdigit() and 0 <= int(i) - COMPANY_ID_BASE < world.company_count
    }
    linked = {object_id: [] for object_id in ids}
    first = min(wanted, default=world.company_count) * PEOPLE_PER_COMPANY
    for index in range(first, world.people_count):
        person = world.person(index)
        if person.company not in wanted or not person.in_hubspot:
            continue
        if to_type == CONTACTS:
            linked[wanted[person.company]].append(str(world.contact_id(index)))
        elif (item := world.deal_of(index)) is not None:
            linked[wanted[person.company]].append(str(item.id))
    return linked
