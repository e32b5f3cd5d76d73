"""Operations: alarms, dashboards, and the cost report with its command line."""
