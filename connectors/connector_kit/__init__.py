"""What this project's Airbyte sources share: how they talk HTTP, read a stream's pages
(``http``) and read only what changed since the last sync (``incremental``).

The CDK is the framework; this is the few dozen lines of policy that both ``source_mailchimp`` and
``source_hubspot`` would otherwise each carry a copy of.
"""
