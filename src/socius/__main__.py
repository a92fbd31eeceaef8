from socius.cli import app

app()
