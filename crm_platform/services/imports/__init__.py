"""Files in and out: importing a CSV / XLSX sheet into a form (`jobs` starts and runs an
import, `files` reads the sheet, `columns` maps its headers, `run` checks and writes the
rows), and exporting records (`export`); cells are neutralised against spreadsheet formula
injection (`cells`) and hostile XLSX files refused before they are read (`xlsx_guard`)."""
