"""The records every ingestion comparator reads: MailChimp ``list_members`` of every audience.

Members are the contact-like records of this world (about 0.85 per person, 25 fields with nested
``merge_fields``, ``stats`` and ``location``). Every comparator asks for the same pages as
source-mailchimp does (``count=1000``, ``offset``, ``_links`` excluded), so all of them are served
from the replay server's cache.
"""

PAGE_SIZE = 1000
EXCLUDE_FIELDS = "_links,members._links"
STREAM = "list_members"


def members_path(list_id: str) -> str:
    return f"lists/{list_id}/members"


def page_params(offset: int) -> dict[str, object]:
    return {"count": PAGE_SIZE, "offset": offset, "exclude_fields": EXCLUDE_FIELDS}
