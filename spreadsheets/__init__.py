"""Spreadsheets, below every app: reading uploads with every safety check (reading), writing
with the one formula escape and its one inverse (writing), and the admin's import engine
(importing). Nothing here imports an app of this project."""
