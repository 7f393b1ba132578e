"""The splake AWS stack (CDK app in Python). ``stack.SplakeStack`` is imported by app.py and the tests."""
