"""The highly available web application (seed 003): Fargate behind an ALB and CloudFront, Aurora
PostgreSQL, a sessions table, asynchronous validation, and its alarms; see docs/webapp.md."""
