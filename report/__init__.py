"""The traffic report and the Grafana dashboard, built from one set of questions.

The questions are BigQuery table functions over the de-duplicated rows, one SQL file each in
terraform/sql/report/ (Terraform creates them; `questions` reads them for everything else).
`panels` says how each answer is shown; `html` renders the static report and `grafana` the
dashboard from the same panels. Nothing here touches the network: sinks/report.py runs the
queries. Not deployed with the functions (.gcloudignore).
"""
