"""Routes of learning in place (`callsort serve --store S --labels FILE`): the model versions with their check
figures, training now, and activating a version (rolling back or forward). Reading needs a key; training and
activating the API key (the reviewer key labels calls: POST /v1/calls/{id}/correction)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from fastapi import Path as FastPath

from ..errors import CallsortError
from .deps import ServiceDep, role

router = APIRouter(dependencies=[Depends(role)])
VERSION = FastPath(ge=1, le=2**31 - 1)


def learning_of(service):
    if service.learning is None:
        raise HTTPException(404, "this service was started with --model: it learns no models of its own "
                                 "(start it with --store and --labels or --train-data, without --model)")
    return service.learning


def admin_only(who: str) -> None:
    if who != "admin":
        raise HTTPException(403, "training and activating models need the API key, not the reviewer key")


@router.get("/v1/models")
def models(service: ServiceDep) -> dict:
    """The active version, every version (state, calls it learned from, people's labels, macro-F1 on the
    check calls with its 90 % interval, the model it was compared with), and labelling progress."""
    return learning_of(service).status()


@router.post("/v1/models/train", status_code=202)
def train_now(service: ServiceDep, who: str = Depends(role)) -> dict:
    """Train a candidate now, in the background (GET /v1/models shows it); 409 while no model can learn."""
    admin_only(who)
    learning = learning_of(service)
    try:
        learning.learner.request()
    except CallsortError as exc:
        raise HTTPException(409, str(exc)) from None
    return {"queued": True, **learning.status()}


@router.post("/v1/models/{version}/activate")
def activate(service: ServiceDep, version: int = VERSION, who: str = Depends(role)) -> dict:
    """Make a version active (200 also when it already is); the calls nobody labelled are re-scored by it."""
    admin_only(who)
    learning = learning_of(service)
    if learning.versions.active() != version:
        try:
            learning.learner.activate(version)
        except CallsortError as exc:
            raise HTTPException(404 if learning.versions.get(version) is None else 409, str(exc)) from None
    return learning.status()
