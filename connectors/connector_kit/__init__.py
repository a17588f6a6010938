"""What this project's Airbyte sources share: how they talk HTTP and read a stream's pages.

The CDK is the framework; this is the few dozen lines of policy that both ``source_mailchimp`` and
``source_hubspot`` would otherwise each carry a copy of.
"""
