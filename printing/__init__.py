"""Card layout, rendering, PDFs and print spoolers."""
