"""moto's S3 server, patched so that keys may hold line breaks, as real S3 allows."""
import sys

from moto.moto_server import utilities


class DotAllRegexConverter(utilities.RegexConverter):
    def __init__(self, url_map, *items):
        super().__init__(url_map, *items)
        self.regex = self.regex.replace(".+", r"[\s\S]+").replace(".*", r"[\s\S]*")


utilities.RegexConverter = DotAllRegexConverter

import moto.moto_server.werkzeug_app as werkzeug_app  # noqa: E402

werkzeug_app.RegexConverter = DotAllRegexConverter

from moto.server import main  # noqa: E402

sys.exit(main())
