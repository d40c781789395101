"""Casework: what happens after a finding (issue #20, docs/casework.md).

A case (idle-land disposal, low-efficiency exit, zone rectification) follows a pathway of steps
held as data in the database (``land.case_pathway_steps``); the database keeps the order of
steps, the money and who may do what (sql/security/0900_casework.sql). This package counts the
periods as the law counts them (:mod:`.periods`, :mod:`.calendar`), holds the periods'
parameters (:mod:`.params`), turns a case's next steps into due dates (:mod:`.schedule`), and
offers the queries the CLI and the web pages use (:mod:`.queries`).
"""
