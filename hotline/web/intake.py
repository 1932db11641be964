from flask import Blueprint

bp = Blueprint("intake", __name__)
