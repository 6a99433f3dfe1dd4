"""Loading a plan from the documents it arrives as (issue 11).

readers.py reads a file by its content (xlsx/csv in any layout, docx tables, the published
text or HTML) into model.py's ParsedPlan, every problem with where it is; labels.py maps the
deadlines plans write to quarters; match.py finds the departments a plan names; apply.py
writes a new plan or revises a live one in one transaction; service.intake is the one path
the command line (import_plan) and the admin (upload → preview → confirm) take."""
