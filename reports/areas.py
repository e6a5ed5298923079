"""Areas: checking a GeoJSON boundary and finding which area a point lies in (pure Python, no GIS stack)."""

from __future__ import annotations

from numbers import Real

from reports.models import Area

Ring = list[list[float]]


def boundary_error(boundary) -> str | None:
    """What is wrong with a GeoJSON Polygon or MultiPolygon, in words an administrator can act on; None if fine."""
    if not isinstance(boundary, dict):
        return 'Give a GeoJSON object such as {"type": "Polygon", "coordinates": [[[lon, lat], ...]]}.'
    kind, coordinates = boundary.get("type"), boundary.get("coordinates")
    if kind not in ("Polygon", "MultiPolygon"):
        return f'The type must be "Polygon" or "MultiPolygon", not {kind!r}.'
    if kind == "Polygon":
        return polygon_error(coordinates, "The polygon")
    if not isinstance(coordinates, list) or not coordinates:
        return "A MultiPolygon's coordinates must be a non-empty list of polygons."
    for index, polygon in enumerate(coordinates, start=1):
        if error := polygon_error(polygon, f"Polygon {index}"):
            return error
    return None


def polygon_error(polygon, label: str) -> str | None:
    if not isinstance(polygon, list) or not polygon:
        return f"{label} must be a non-empty list of rings (the outline, then any holes)."
    for index, ring in enumerate(polygon):
        name = f"{label}'s outline" if index == 0 else f"{label}'s hole {index}"
        if error := ring_error(ring, name):
            return error
    return None


def ring_error(ring, name: str) -> str | None:
    if not isinstance(ring, list) or len(ring) < 4:
        return f"{name} needs at least 4 positions (a triangle plus the first point again to close it)."
    for position in ring:
        if (not isinstance(position, list) or len(position) < 2
                or not all(isinstance(v, Real) and not isinstance(v, bool) for v in position[:2])):
            return f"{name} has a position that is not [longitude, latitude]: {position!r}."
        longitude, latitude = position[0], position[1]
        if not -180 <= longitude <= 180:
            return f"{name} has longitude {longitude} outside -180..180 (positions are [longitude, latitude])."
        if not -90 <= latitude <= 90:
            return f"{name} has latitude {latitude} outside -90..90 (positions are [longitude, latitude])."
    if ring[0][:2] != ring[-1][:2]:
        return f"{name} is not closed: its last position must repeat the first, {ring[0]!r}."
    return None


def ring_contains(ring: Ring, x: float, y: float) -> bool:
    """Ray casting: a ray from the point crosses the ring's edges an odd number of times when it is inside."""
    inside = False
    for (x1, y1), (x2, y2) in zip((p[:2] for p in ring), (p[:2] for p in ring[1:]), strict=False):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def polygon_contains(polygon: list[Ring], x: float, y: float) -> bool:
    outline, holes = polygon[0], polygon[1:]
    return ring_contains(outline, x, y) and not any(ring_contains(hole, x, y) for hole in holes)


def boundary_contains(boundary: dict, latitude: float, longitude: float) -> bool:
    polygons = [boundary["coordinates"]] if boundary["type"] == "Polygon" else boundary["coordinates"]
    return any(polygon_contains(polygon, longitude, latitude) for polygon in polygons)


def depth(area: Area, parents: dict[int, int | None]) -> int:
    level, parent_id, seen = 0, parents.get(area.pk), set()
    while parent_id is not None and parent_id not in seen:
        seen.add(parent_id)
        level, parent_id = level + 1, parents.get(parent_id)
    return level


def area_for_point(latitude, longitude) -> Area | None:
    """The deepest area whose boundary contains the point: a beat before the sector around it."""
    latitude, longitude = float(latitude), float(longitude)
    areas = list(Area.objects.all())
    parents = {area.pk: area.parent_id for area in areas}
    matches = [area for area in areas
               if area.boundary and boundary_error(area.boundary) is None
               and boundary_contains(area.boundary, latitude, longitude)]
    if not matches:
        return None
    return max(matches, key=lambda area: (depth(area, parents), area.kind == Area.Kind.BEAT, -area.pk))


def with_descendants(area_ids) -> set[int]:
    """The ids of these areas and of every area under them, a query per level."""
    found = set(area_ids)
    frontier = found
    while frontier:
        frontier = set(Area.objects.filter(parent_id__in=frontier).exclude(pk__in=found).values_list("pk", flat=True))
        found |= frontier
    return found


def area_descendants(area: Area) -> list[Area]:
    """The area and every area under it."""
    children: dict[int, list[Area]] = {}
    for candidate in Area.objects.exclude(parent=None):
        children.setdefault(candidate.parent_id, []).append(candidate)
    found, queue, seen = [], [area], set()
    while queue:
        current = queue.pop(0)
        if current.pk in seen:
            continue
        seen.add(current.pk)
        found.append(current)
        queue.extend(children.get(current.pk, []))
    return found
