"""Glossaries: Dutch terms rendered one fixed way in English, enforced on the source side."""
