"""Pure library for form definitions, field types, expressions and validation (issue 3).

It must never import Flask, SQLAlchemy or Redis: a test checks that in a fresh interpreter.
"""
