"""Workbook plumbing: repository paths, notebook parameters, ``nvlib reproduce`` (papermill), atomic
writes, and the table and figure output every notebook shares."""
