"""Vocabulary of volunteers shared by every contract: training types, roles, transport."""

from __future__ import annotations

from enum import StrEnum


class CertificationType(StrEnum):
    FIRST_AID = "first_aid"
    WATER_RESCUE = "water_rescue"
    MOUNTAIN_RESCUE = "mountain_rescue"
    SEARCH_AND_RESCUE = "search_and_rescue"
    DRONE_PILOT = "drone_pilot"
    OFFROAD_DRIVER = "offroad_driver"
    PSYCHOLOGIST = "psychologist"
    DOG_HANDLER = "dog_handler"
    RADIO_OPERATOR = "radio_operator"
    FIREFIGHTING = "firefighting"
    TEAM_LEADER = "team_leader"


class Role(StrEnum):
    """A place in a mobile group."""

    LEADER = "leader"
    MEDIC = "medic"
    WATER_RESCUER = "water_rescuer"
    MOUNTAIN_RESCUER = "mountain_rescuer"
    SEARCHER = "searcher"
    DRONE_PILOT = "drone_pilot"
    DRIVER_4X4 = "driver_4x4"
    PSYCHOLOGIST = "psychologist"
    DOG_HANDLER = "dog_handler"
    RADIO_OPERATOR = "radio_operator"
    FIREFIGHTER = "firefighter"


class TransportMode(StrEnum):
    FOOT = "foot"
    BICYCLE = "bicycle"
    CAR = "car"
    OFFROAD = "offroad"


class Availability(StrEnum):
    AVAILABLE = "available"
    OFF_DUTY = "off_duty"
    INACTIVE = "inactive"
