"""The web app's tabs beyond the chat: the document library (admins), enterprise eligibility, build progress."""
