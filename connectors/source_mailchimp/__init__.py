"""Airbyte source for the MailChimp Marketing API v3 (Python ``HttpStream``s, see README.md)."""

from source_mailchimp.source import SourceMailchimp

__all__ = ["SourceMailchimp"]
