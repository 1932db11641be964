"""The city's directory: departments, districts, categories, their CSV file and the category
picker."""
