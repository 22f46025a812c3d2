"""Pure library for approval flows and automation rules as data and state machines (issue 5).

It must never import Flask, SQLAlchemy or Redis: a test checks that in a fresh interpreter.
"""
