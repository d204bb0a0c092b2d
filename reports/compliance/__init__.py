"""The compliance report for auditors: model (Python), and HTML, JSON, SARIF, JUnit and CSV views.

govern report compliance cdk.out -o build/reports/compliance.html
"""
