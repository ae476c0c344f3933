from credstack.contracts.catalogue import OfferingScheduled
from credstack.kafka import Handlers
from enrolment import usecases

HANDLERS: Handlers = {OfferingScheduled: usecases.offering_scheduled}
