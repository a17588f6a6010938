"""source-google-sheets: the tabs of one Google spreadsheet, one stream per tab (Sheets API v4)."""

from source_google_sheets.source import SourceGoogleSheets

__all__ = ["SourceGoogleSheets"]
