"""zonegeo: the geospatial registry of Jiangsu's IP-service agglomeration zones (知识产权服务业集聚发展区)."""

__version__ = "0.1.0"
