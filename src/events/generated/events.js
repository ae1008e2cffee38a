/*eslint-disable block-scoped-var, id-length, no-control-regex, no-magic-numbers, no-prototype-builtins, no-redeclare, no-shadow, no-var, sort-vars*/
import * as $protobuf from "protobufjs/minimal.js";

// Common aliases
const $Reader = $protobuf.Reader, $Writer = $protobuf.Writer, $util = $protobuf.util;

// Exported root namespace
const $root = $protobuf.roots["default"] || ($protobuf.roots["default"] = {});

export const pvctrl = $root.pvctrl = (() => {

    /**
     * Namespace pvctrl.
     * @exports pvctrl
     * @namespace
     */
    const pvctrl = {};

    pvctrl.Event = (function() {

        /**
         * Properties of an Event.
         * @memberof pvctrl
         * @interface IEvent
         * @property {number|Long|null} [seq] Event seq
         * @property {number|Long|null} [time] Event time
         * @property {pvctrl.IEpoch|null} [epoch] Event epoch
         * @property {pvctrl.IReset|null} [reset] Event reset
         * @property {pvctrl.IOverflow|null} [overflow] Event overflow
         * @property {pvctrl.IContainerStatus|null} [container] Event container
         * @property {pvctrl.IGroupStatus|null} [group] Event group
         * @property {pvctrl.IRevisionProgress|null} [revision] Event revision
         * @property {pvctrl.IMetaChange|null} [meta] Event meta
         * @property {pvctrl.IDaemonChange|null} [daemon] Event daemon
         * @property {pvctrl.ISignalReceived|null} [signal] Event signal
         * @property {pvctrl.IObjectChange|null} [object] Event object
         * @property {pvctrl.ICommandChange|null} [command] Event command
         * @property {pvctrl.IDriverChange|null} [driver] Event driver
         * @property {pvctrl.IXconnectChange|null} [xconnect] Event xconnect
         */

        /**
         * Constructs a new Event.
         * @memberof pvctrl
         * @classdesc Represents an Event.
         * @implements IEvent
         * @constructor
         * @param {pvctrl.IEvent=} [properties] Properties to set
         */
        function Event(properties) {
            if (properties)
                for (let keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        }

        /**
         * Event seq.
         * @member {number|Long} seq
         * @memberof pvctrl.Event
         * @instance
         */
        Event.prototype.seq = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

        /**
         * Event time.
         * @member {number|Long} time
         * @memberof pvctrl.Event
         * @instance
         */
        Event.prototype.time = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

        /**
         * Event epoch.
         * @member {pvctrl.IEpoch|null|undefined} epoch
         * @memberof pvctrl.Event
         * @instance
         */
        Event.prototype.epoch = null;

        /**
         * Event reset.
         * @member {pvctrl.IReset|null|undefined} reset
         * @memberof pvctrl.Event
         * @instance
         */
        Event.prototype.reset = null;

        /**
         * Event overflow.
         * @member {pvctrl.IOverflow|null|undefined} overflow
         * @memberof pvctrl.Event
         * @instance
         */
        Event.prototype.overflow = null;

        /**
         * Event container.
         * @member {pvctrl.IContainerStatus|null|undefined} container
         * @memberof pvctrl.Event
         * @instance
         */
        Event.prototype.container = null;

        /**
         * Event group.
         * @member {pvctrl.IGroupStatus|null|undefined} group
         * @memberof pvctrl.Event
         * @instance
         */
        Event.prototype.group = null;

        /**
         * Event revision.
         * @member {pvctrl.IRevisionProgress|null|undefined} revision
         * @memberof pvctrl.Event
         * @instance
         */
        Event.prototype.revision = null;

        /**
         * Event meta.
         * @member {pvctrl.IMetaChange|null|undefined} meta
         * @memberof pvctrl.Event
         * @instance
         */
        Event.prototype.meta = null;

        /**
         * Event daemon.
         * @member {pvctrl.IDaemonChange|null|undefined} daemon
         * @memberof pvctrl.Event
         * @instance
         */
        Event.prototype.daemon = null;

        /**
         * Event signal.
         * @member {pvctrl.ISignalReceived|null|undefined} signal
         * @memberof pvctrl.Event
         * @instance
         */
        Event.prototype.signal = null;

        /**
         * Event object.
         * @member {pvctrl.IObjectChange|null|undefined} object
         * @memberof pvctrl.Event
         * @instance
         */
        Event.prototype.object = null;

        /**
         * Event command.
         * @member {pvctrl.ICommandChange|null|undefined} command
         * @memberof pvctrl.Event
         * @instance
         */
        Event.prototype.command = null;

        /**
         * Event driver.
         * @member {pvctrl.IDriverChange|null|undefined} driver
         * @memberof pvctrl.Event
         * @instance
         */
        Event.prototype.driver = null;

        /**
         * Event xconnect.
         * @member {pvctrl.IXconnectChange|null|undefined} xconnect
         * @memberof pvctrl.Event
         * @instance
         */
        Event.prototype.xconnect = null;

        // OneOf field names bound to virtual getters and setters
        let $oneOfFields;

        /**
         * Event type.
         * @member {"epoch"|"reset"|"overflow"|"container"|"group"|"revision"|"meta"|"daemon"|"signal"|"object"|"command"|"driver"|"xconnect"|undefined} type
         * @memberof pvctrl.Event
         * @instance
         */
        Object.defineProperty(Event.prototype, "type", {
            get: $util.oneOfGetter($oneOfFields = ["epoch", "reset", "overflow", "container", "group", "revision", "meta", "daemon", "signal", "object", "command", "driver", "xconnect"]),
            set: $util.oneOfSetter($oneOfFields)
        });

        /**
         * Creates a new Event instance using the specified properties.
         * @function create
         * @memberof pvctrl.Event
         * @static
         * @param {pvctrl.IEvent=} [properties] Properties to set
         * @returns {pvctrl.Event} Event instance
         */
        Event.create = function create(properties) {
            return new Event(properties);
        };

        /**
         * Encodes the specified Event message. Does not implicitly {@link pvctrl.Event.verify|verify} messages.
         * @function encode
         * @memberof pvctrl.Event
         * @static
         * @param {pvctrl.IEvent} message Event message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        Event.encode = function encode(message, writer, q) {
            if (!writer)
                writer = $Writer.create();
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            if (message.seq != null && Object.hasOwnProperty.call(message, "seq"))
                writer.uint32(/* id 1, wireType 0 =*/8).uint64(message.seq);
            if (message.time != null && Object.hasOwnProperty.call(message, "time"))
                writer.uint32(/* id 2, wireType 0 =*/16).uint64(message.time);
            if (message.epoch != null && Object.hasOwnProperty.call(message, "epoch"))
                $root.pvctrl.Epoch.encode(message.epoch, writer.uint32(/* id 10, wireType 2 =*/82).fork(), q + 1).ldelim();
            if (message.reset != null && Object.hasOwnProperty.call(message, "reset"))
                $root.pvctrl.Reset.encode(message.reset, writer.uint32(/* id 11, wireType 2 =*/90).fork(), q + 1).ldelim();
            if (message.overflow != null && Object.hasOwnProperty.call(message, "overflow"))
                $root.pvctrl.Overflow.encode(message.overflow, writer.uint32(/* id 12, wireType 2 =*/98).fork(), q + 1).ldelim();
            if (message.container != null && Object.hasOwnProperty.call(message, "container"))
                $root.pvctrl.ContainerStatus.encode(message.container, writer.uint32(/* id 13, wireType 2 =*/106).fork(), q + 1).ldelim();
            if (message.group != null && Object.hasOwnProperty.call(message, "group"))
                $root.pvctrl.GroupStatus.encode(message.group, writer.uint32(/* id 14, wireType 2 =*/114).fork(), q + 1).ldelim();
            if (message.revision != null && Object.hasOwnProperty.call(message, "revision"))
                $root.pvctrl.RevisionProgress.encode(message.revision, writer.uint32(/* id 15, wireType 2 =*/122).fork(), q + 1).ldelim();
            if (message.meta != null && Object.hasOwnProperty.call(message, "meta"))
                $root.pvctrl.MetaChange.encode(message.meta, writer.uint32(/* id 16, wireType 2 =*/130).fork(), q + 1).ldelim();
            if (message.daemon != null && Object.hasOwnProperty.call(message, "daemon"))
                $root.pvctrl.DaemonChange.encode(message.daemon, writer.uint32(/* id 17, wireType 2 =*/138).fork(), q + 1).ldelim();
            if (message.signal != null && Object.hasOwnProperty.call(message, "signal"))
                $root.pvctrl.SignalReceived.encode(message.signal, writer.uint32(/* id 18, wireType 2 =*/146).fork(), q + 1).ldelim();
            if (message.object != null && Object.hasOwnProperty.call(message, "object"))
                $root.pvctrl.ObjectChange.encode(message.object, writer.uint32(/* id 19, wireType 2 =*/154).fork(), q + 1).ldelim();
            if (message.command != null && Object.hasOwnProperty.call(message, "command"))
                $root.pvctrl.CommandChange.encode(message.command, writer.uint32(/* id 20, wireType 2 =*/162).fork(), q + 1).ldelim();
            if (message.driver != null && Object.hasOwnProperty.call(message, "driver"))
                $root.pvctrl.DriverChange.encode(message.driver, writer.uint32(/* id 21, wireType 2 =*/170).fork(), q + 1).ldelim();
            if (message.xconnect != null && Object.hasOwnProperty.call(message, "xconnect"))
                $root.pvctrl.XconnectChange.encode(message.xconnect, writer.uint32(/* id 22, wireType 2 =*/178).fork(), q + 1).ldelim();
            return writer;
        };

        /**
         * Encodes the specified Event message, length delimited. Does not implicitly {@link pvctrl.Event.verify|verify} messages.
         * @function encodeDelimited
         * @memberof pvctrl.Event
         * @static
         * @param {pvctrl.IEvent} message Event message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        Event.encodeDelimited = function encodeDelimited(message, writer) {
            return this.encode(message, writer && writer.len ? writer.fork() : writer).ldelim();
        };

        /**
         * Decodes an Event message from the specified reader or buffer.
         * @function decode
         * @memberof pvctrl.Event
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {pvctrl.Event} Event
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        Event.decode = function decode(reader, length, error, long) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (long === undefined)
                long = 0;
            if (long > $Reader.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let end, message;
            if (length === undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = new $root.pvctrl.Event();
            while (reader.pos < end) {
                let tag = reader.uint32();
                if (tag === error)
                    break;
                switch (tag >>> 3) {
                case 1: {
                        message.seq = reader.uint64();
                        break;
                    }
                case 2: {
                        message.time = reader.uint64();
                        break;
                    }
                case 10: {
                        message.epoch = $root.pvctrl.Epoch.decode(reader, reader.uint32(), undefined, long + 1);
                        break;
                    }
                case 11: {
                        message.reset = $root.pvctrl.Reset.decode(reader, reader.uint32(), undefined, long + 1);
                        break;
                    }
                case 12: {
                        message.overflow = $root.pvctrl.Overflow.decode(reader, reader.uint32(), undefined, long + 1);
                        break;
                    }
                case 13: {
                        message.container = $root.pvctrl.ContainerStatus.decode(reader, reader.uint32(), undefined, long + 1);
                        break;
                    }
                case 14: {
                        message.group = $root.pvctrl.GroupStatus.decode(reader, reader.uint32(), undefined, long + 1);
                        break;
                    }
                case 15: {
                        message.revision = $root.pvctrl.RevisionProgress.decode(reader, reader.uint32(), undefined, long + 1);
                        break;
                    }
                case 16: {
                        message.meta = $root.pvctrl.MetaChange.decode(reader, reader.uint32(), undefined, long + 1);
                        break;
                    }
                case 17: {
                        message.daemon = $root.pvctrl.DaemonChange.decode(reader, reader.uint32(), undefined, long + 1);
                        break;
                    }
                case 18: {
                        message.signal = $root.pvctrl.SignalReceived.decode(reader, reader.uint32(), undefined, long + 1);
                        break;
                    }
                case 19: {
                        message.object = $root.pvctrl.ObjectChange.decode(reader, reader.uint32(), undefined, long + 1);
                        break;
                    }
                case 20: {
                        message.command = $root.pvctrl.CommandChange.decode(reader, reader.uint32(), undefined, long + 1);
                        break;
                    }
                case 21: {
                        message.driver = $root.pvctrl.DriverChange.decode(reader, reader.uint32(), undefined, long + 1);
                        break;
                    }
                case 22: {
                        message.xconnect = $root.pvctrl.XconnectChange.decode(reader, reader.uint32(), undefined, long + 1);
                        break;
                    }
                default:
                    reader.skipType(tag & 7, long);
                    break;
                }
            }
            if (length !== undefined) {
                if (reader.pos !== end)
                    throw RangeError("index out of range");
                reader.len = length;
            }
            return message;
        };

        /**
         * Decodes an Event message from the specified reader or buffer, length delimited.
         * @function decodeDelimited
         * @memberof pvctrl.Event
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @returns {pvctrl.Event} Event
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        Event.decodeDelimited = function decodeDelimited(reader) {
            if (!(reader instanceof $Reader))
                reader = new $Reader(reader);
            return this.decode(reader, reader.uint32());
        };

        /**
         * Creates an Event message from a plain object. Also converts values to their respective internal types.
         * @function fromObject
         * @memberof pvctrl.Event
         * @static
         * @param {Object.<string,*>} object Plain object
         * @returns {pvctrl.Event} Event
         */
        Event.fromObject = function fromObject(object, long) {
            if (object instanceof $root.pvctrl.Event)
                return object;
            if (!$util.isObject(object))
                throw TypeError(".pvctrl.Event: object expected");
            if (long === undefined)
                long = 0;
            if (long > $util.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let message = new $root.pvctrl.Event();
            if (object.seq != null)
                if ($util.Long)
                    message.seq = $util.Long.fromValue(object.seq, true);
                else if (typeof object.seq === "string")
                    message.seq = parseInt(object.seq, 10);
                else if (typeof object.seq === "number")
                    message.seq = object.seq;
                else if (typeof object.seq === "object")
                    message.seq = new $util.LongBits(object.seq.low >>> 0, object.seq.high >>> 0).toNumber(true);
            if (object.time != null)
                if ($util.Long)
                    message.time = $util.Long.fromValue(object.time, true);
                else if (typeof object.time === "string")
                    message.time = parseInt(object.time, 10);
                else if (typeof object.time === "number")
                    message.time = object.time;
                else if (typeof object.time === "object")
                    message.time = new $util.LongBits(object.time.low >>> 0, object.time.high >>> 0).toNumber(true);
            if (object.epoch != null) {
                if (!$util.isObject(object.epoch))
                    throw TypeError(".pvctrl.Event.epoch: object expected");
                message.epoch = $root.pvctrl.Epoch.fromObject(object.epoch, long + 1);
            }
            if (object.reset != null) {
                if (!$util.isObject(object.reset))
                    throw TypeError(".pvctrl.Event.reset: object expected");
                message.reset = $root.pvctrl.Reset.fromObject(object.reset, long + 1);
            }
            if (object.overflow != null) {
                if (!$util.isObject(object.overflow))
                    throw TypeError(".pvctrl.Event.overflow: object expected");
                message.overflow = $root.pvctrl.Overflow.fromObject(object.overflow, long + 1);
            }
            if (object.container != null) {
                if (!$util.isObject(object.container))
                    throw TypeError(".pvctrl.Event.container: object expected");
                message.container = $root.pvctrl.ContainerStatus.fromObject(object.container, long + 1);
            }
            if (object.group != null) {
                if (!$util.isObject(object.group))
                    throw TypeError(".pvctrl.Event.group: object expected");
                message.group = $root.pvctrl.GroupStatus.fromObject(object.group, long + 1);
            }
            if (object.revision != null) {
                if (!$util.isObject(object.revision))
                    throw TypeError(".pvctrl.Event.revision: object expected");
                message.revision = $root.pvctrl.RevisionProgress.fromObject(object.revision, long + 1);
            }
            if (object.meta != null) {
                if (!$util.isObject(object.meta))
                    throw TypeError(".pvctrl.Event.meta: object expected");
                message.meta = $root.pvctrl.MetaChange.fromObject(object.meta, long + 1);
            }
            if (object.daemon != null) {
                if (!$util.isObject(object.daemon))
                    throw TypeError(".pvctrl.Event.daemon: object expected");
                message.daemon = $root.pvctrl.DaemonChange.fromObject(object.daemon, long + 1);
            }
            if (object.signal != null) {
                if (!$util.isObject(object.signal))
                    throw TypeError(".pvctrl.Event.signal: object expected");
                message.signal = $root.pvctrl.SignalReceived.fromObject(object.signal, long + 1);
            }
            if (object.object != null) {
                if (!$util.isObject(object.object))
                    throw TypeError(".pvctrl.Event.object: object expected");
                message.object = $root.pvctrl.ObjectChange.fromObject(object.object, long + 1);
            }
            if (object.command != null) {
                if (!$util.isObject(object.command))
                    throw TypeError(".pvctrl.Event.command: object expected");
                message.command = $root.pvctrl.CommandChange.fromObject(object.command, long + 1);
            }
            if (object.driver != null) {
                if (!$util.isObject(object.driver))
                    throw TypeError(".pvctrl.Event.driver: object expected");
                message.driver = $root.pvctrl.DriverChange.fromObject(object.driver, long + 1);
            }
            if (object.xconnect != null) {
                if (!$util.isObject(object.xconnect))
                    throw TypeError(".pvctrl.Event.xconnect: object expected");
                message.xconnect = $root.pvctrl.XconnectChange.fromObject(object.xconnect, long + 1);
            }
            return message;
        };

        /**
         * Creates a plain object from an Event message. Also converts values to other types if specified.
         * @function toObject
         * @memberof pvctrl.Event
         * @static
         * @param {pvctrl.Event} message Event
         * @param {$protobuf.IConversionOptions} [options] Conversion options
         * @returns {Object.<string,*>} Plain object
         */
        Event.toObject = function toObject(message, options, q) {
            if (!options)
                options = {};
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            let object = {};
            if (options.defaults) {
                if ($util.Long) {
                    let long = new $util.Long(0, 0, true);
                    object.seq = options.longs === String ? long.toString() : options.longs === Number ? long.toNumber() : typeof BigInt !== "undefined" && options.longs === BigInt ? long.toBigInt() : long;
                } else
                    object.seq = options.longs === String ? "0" : typeof BigInt !== "undefined" && options.longs === BigInt ? BigInt("0") : 0;
                if ($util.Long) {
                    let long = new $util.Long(0, 0, true);
                    object.time = options.longs === String ? long.toString() : options.longs === Number ? long.toNumber() : typeof BigInt !== "undefined" && options.longs === BigInt ? long.toBigInt() : long;
                } else
                    object.time = options.longs === String ? "0" : typeof BigInt !== "undefined" && options.longs === BigInt ? BigInt("0") : 0;
            }
            if (message.seq != null && Object.hasOwnProperty.call(message, "seq"))
                if (typeof BigInt !== "undefined" && options.longs === BigInt)
                    object.seq = typeof message.seq === "number" ? BigInt(message.seq) : $util.Long.fromBits(message.seq.low >>> 0, message.seq.high >>> 0, true).toBigInt();
                else if (typeof message.seq === "number")
                    object.seq = options.longs === String ? String(message.seq) : message.seq;
                else
                    object.seq = options.longs === String ? $util.Long.prototype.toString.call(message.seq) : options.longs === Number ? new $util.LongBits(message.seq.low >>> 0, message.seq.high >>> 0).toNumber(true) : message.seq;
            if (message.time != null && Object.hasOwnProperty.call(message, "time"))
                if (typeof BigInt !== "undefined" && options.longs === BigInt)
                    object.time = typeof message.time === "number" ? BigInt(message.time) : $util.Long.fromBits(message.time.low >>> 0, message.time.high >>> 0, true).toBigInt();
                else if (typeof message.time === "number")
                    object.time = options.longs === String ? String(message.time) : message.time;
                else
                    object.time = options.longs === String ? $util.Long.prototype.toString.call(message.time) : options.longs === Number ? new $util.LongBits(message.time.low >>> 0, message.time.high >>> 0).toNumber(true) : message.time;
            if (message.epoch != null && Object.hasOwnProperty.call(message, "epoch")) {
                object.epoch = $root.pvctrl.Epoch.toObject(message.epoch, options, q + 1);
                if (options.oneofs)
                    object.type = "epoch";
            }
            if (message.reset != null && Object.hasOwnProperty.call(message, "reset")) {
                object.reset = $root.pvctrl.Reset.toObject(message.reset, options, q + 1);
                if (options.oneofs)
                    object.type = "reset";
            }
            if (message.overflow != null && Object.hasOwnProperty.call(message, "overflow")) {
                object.overflow = $root.pvctrl.Overflow.toObject(message.overflow, options, q + 1);
                if (options.oneofs)
                    object.type = "overflow";
            }
            if (message.container != null && Object.hasOwnProperty.call(message, "container")) {
                object.container = $root.pvctrl.ContainerStatus.toObject(message.container, options, q + 1);
                if (options.oneofs)
                    object.type = "container";
            }
            if (message.group != null && Object.hasOwnProperty.call(message, "group")) {
                object.group = $root.pvctrl.GroupStatus.toObject(message.group, options, q + 1);
                if (options.oneofs)
                    object.type = "group";
            }
            if (message.revision != null && Object.hasOwnProperty.call(message, "revision")) {
                object.revision = $root.pvctrl.RevisionProgress.toObject(message.revision, options, q + 1);
                if (options.oneofs)
                    object.type = "revision";
            }
            if (message.meta != null && Object.hasOwnProperty.call(message, "meta")) {
                object.meta = $root.pvctrl.MetaChange.toObject(message.meta, options, q + 1);
                if (options.oneofs)
                    object.type = "meta";
            }
            if (message.daemon != null && Object.hasOwnProperty.call(message, "daemon")) {
                object.daemon = $root.pvctrl.DaemonChange.toObject(message.daemon, options, q + 1);
                if (options.oneofs)
                    object.type = "daemon";
            }
            if (message.signal != null && Object.hasOwnProperty.call(message, "signal")) {
                object.signal = $root.pvctrl.SignalReceived.toObject(message.signal, options, q + 1);
                if (options.oneofs)
                    object.type = "signal";
            }
            if (message.object != null && Object.hasOwnProperty.call(message, "object")) {
                object.object = $root.pvctrl.ObjectChange.toObject(message.object, options, q + 1);
                if (options.oneofs)
                    object.type = "object";
            }
            if (message.command != null && Object.hasOwnProperty.call(message, "command")) {
                object.command = $root.pvctrl.CommandChange.toObject(message.command, options, q + 1);
                if (options.oneofs)
                    object.type = "command";
            }
            if (message.driver != null && Object.hasOwnProperty.call(message, "driver")) {
                object.driver = $root.pvctrl.DriverChange.toObject(message.driver, options, q + 1);
                if (options.oneofs)
                    object.type = "driver";
            }
            if (message.xconnect != null && Object.hasOwnProperty.call(message, "xconnect")) {
                object.xconnect = $root.pvctrl.XconnectChange.toObject(message.xconnect, options, q + 1);
                if (options.oneofs)
                    object.type = "xconnect";
            }
            return object;
        };

        /**
         * Converts this Event to JSON.
         * @function toJSON
         * @memberof pvctrl.Event
         * @instance
         * @returns {Object.<string,*>} JSON object
         */
        Event.prototype.toJSON = function toJSON() {
            return this.constructor.toObject(this, $protobuf.util.toJSONOptions);
        };

        return Event;
    })();

    pvctrl.Epoch = (function() {

        /**
         * Properties of an Epoch.
         * @memberof pvctrl
         * @interface IEpoch
         * @property {string|null} [id] Epoch id
         */

        /**
         * Constructs a new Epoch.
         * @memberof pvctrl
         * @classdesc Represents an Epoch.
         * @implements IEpoch
         * @constructor
         * @param {pvctrl.IEpoch=} [properties] Properties to set
         */
        function Epoch(properties) {
            if (properties)
                for (let keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        }

        /**
         * Epoch id.
         * @member {string} id
         * @memberof pvctrl.Epoch
         * @instance
         */
        Epoch.prototype.id = "";

        /**
         * Creates a new Epoch instance using the specified properties.
         * @function create
         * @memberof pvctrl.Epoch
         * @static
         * @param {pvctrl.IEpoch=} [properties] Properties to set
         * @returns {pvctrl.Epoch} Epoch instance
         */
        Epoch.create = function create(properties) {
            return new Epoch(properties);
        };

        /**
         * Encodes the specified Epoch message. Does not implicitly {@link pvctrl.Epoch.verify|verify} messages.
         * @function encode
         * @memberof pvctrl.Epoch
         * @static
         * @param {pvctrl.IEpoch} message Epoch message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        Epoch.encode = function encode(message, writer, q) {
            if (!writer)
                writer = $Writer.create();
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            if (message.id != null && Object.hasOwnProperty.call(message, "id"))
                writer.uint32(/* id 1, wireType 2 =*/10).string(message.id);
            return writer;
        };

        /**
         * Encodes the specified Epoch message, length delimited. Does not implicitly {@link pvctrl.Epoch.verify|verify} messages.
         * @function encodeDelimited
         * @memberof pvctrl.Epoch
         * @static
         * @param {pvctrl.IEpoch} message Epoch message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        Epoch.encodeDelimited = function encodeDelimited(message, writer) {
            return this.encode(message, writer && writer.len ? writer.fork() : writer).ldelim();
        };

        /**
         * Decodes an Epoch message from the specified reader or buffer.
         * @function decode
         * @memberof pvctrl.Epoch
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {pvctrl.Epoch} Epoch
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        Epoch.decode = function decode(reader, length, error, long) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (long === undefined)
                long = 0;
            if (long > $Reader.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let end, message;
            if (length === undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = new $root.pvctrl.Epoch();
            while (reader.pos < end) {
                let tag = reader.uint32();
                if (tag === error)
                    break;
                switch (tag >>> 3) {
                case 1: {
                        message.id = reader.string();
                        break;
                    }
                default:
                    reader.skipType(tag & 7, long);
                    break;
                }
            }
            if (length !== undefined) {
                if (reader.pos !== end)
                    throw RangeError("index out of range");
                reader.len = length;
            }
            return message;
        };

        /**
         * Decodes an Epoch message from the specified reader or buffer, length delimited.
         * @function decodeDelimited
         * @memberof pvctrl.Epoch
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @returns {pvctrl.Epoch} Epoch
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        Epoch.decodeDelimited = function decodeDelimited(reader) {
            if (!(reader instanceof $Reader))
                reader = new $Reader(reader);
            return this.decode(reader, reader.uint32());
        };

        /**
         * Creates an Epoch message from a plain object. Also converts values to their respective internal types.
         * @function fromObject
         * @memberof pvctrl.Epoch
         * @static
         * @param {Object.<string,*>} object Plain object
         * @returns {pvctrl.Epoch} Epoch
         */
        Epoch.fromObject = function fromObject(object, long) {
            if (object instanceof $root.pvctrl.Epoch)
                return object;
            if (!$util.isObject(object))
                throw TypeError(".pvctrl.Epoch: object expected");
            if (long === undefined)
                long = 0;
            if (long > $util.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let message = new $root.pvctrl.Epoch();
            if (object.id != null)
                message.id = String(object.id);
            return message;
        };

        /**
         * Creates a plain object from an Epoch message. Also converts values to other types if specified.
         * @function toObject
         * @memberof pvctrl.Epoch
         * @static
         * @param {pvctrl.Epoch} message Epoch
         * @param {$protobuf.IConversionOptions} [options] Conversion options
         * @returns {Object.<string,*>} Plain object
         */
        Epoch.toObject = function toObject(message, options, q) {
            if (!options)
                options = {};
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            let object = {};
            if (options.defaults)
                object.id = "";
            if (message.id != null && Object.hasOwnProperty.call(message, "id"))
                object.id = message.id;
            return object;
        };

        /**
         * Converts this Epoch to JSON.
         * @function toJSON
         * @memberof pvctrl.Epoch
         * @instance
         * @returns {Object.<string,*>} JSON object
         */
        Epoch.prototype.toJSON = function toJSON() {
            return this.constructor.toObject(this, $protobuf.util.toJSONOptions);
        };

        return Epoch;
    })();

    pvctrl.Reset = (function() {

        /**
         * Properties of a Reset.
         * @memberof pvctrl
         * @interface IReset
         * @property {string|null} [epoch] Reset epoch
         * @property {number|Long|null} [since] Reset since
         * @property {number|Long|null} [oldest] Reset oldest
         */

        /**
         * Constructs a new Reset.
         * @memberof pvctrl
         * @classdesc Represents a Reset.
         * @implements IReset
         * @constructor
         * @param {pvctrl.IReset=} [properties] Properties to set
         */
        function Reset(properties) {
            if (properties)
                for (let keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        }

        /**
         * Reset epoch.
         * @member {string} epoch
         * @memberof pvctrl.Reset
         * @instance
         */
        Reset.prototype.epoch = "";

        /**
         * Reset since.
         * @member {number|Long} since
         * @memberof pvctrl.Reset
         * @instance
         */
        Reset.prototype.since = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

        /**
         * Reset oldest.
         * @member {number|Long} oldest
         * @memberof pvctrl.Reset
         * @instance
         */
        Reset.prototype.oldest = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

        /**
         * Creates a new Reset instance using the specified properties.
         * @function create
         * @memberof pvctrl.Reset
         * @static
         * @param {pvctrl.IReset=} [properties] Properties to set
         * @returns {pvctrl.Reset} Reset instance
         */
        Reset.create = function create(properties) {
            return new Reset(properties);
        };

        /**
         * Encodes the specified Reset message. Does not implicitly {@link pvctrl.Reset.verify|verify} messages.
         * @function encode
         * @memberof pvctrl.Reset
         * @static
         * @param {pvctrl.IReset} message Reset message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        Reset.encode = function encode(message, writer, q) {
            if (!writer)
                writer = $Writer.create();
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            if (message.epoch != null && Object.hasOwnProperty.call(message, "epoch"))
                writer.uint32(/* id 1, wireType 2 =*/10).string(message.epoch);
            if (message.since != null && Object.hasOwnProperty.call(message, "since"))
                writer.uint32(/* id 2, wireType 0 =*/16).uint64(message.since);
            if (message.oldest != null && Object.hasOwnProperty.call(message, "oldest"))
                writer.uint32(/* id 3, wireType 0 =*/24).uint64(message.oldest);
            return writer;
        };

        /**
         * Encodes the specified Reset message, length delimited. Does not implicitly {@link pvctrl.Reset.verify|verify} messages.
         * @function encodeDelimited
         * @memberof pvctrl.Reset
         * @static
         * @param {pvctrl.IReset} message Reset message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        Reset.encodeDelimited = function encodeDelimited(message, writer) {
            return this.encode(message, writer && writer.len ? writer.fork() : writer).ldelim();
        };

        /**
         * Decodes a Reset message from the specified reader or buffer.
         * @function decode
         * @memberof pvctrl.Reset
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {pvctrl.Reset} Reset
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        Reset.decode = function decode(reader, length, error, long) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (long === undefined)
                long = 0;
            if (long > $Reader.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let end, message;
            if (length === undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = new $root.pvctrl.Reset();
            while (reader.pos < end) {
                let tag = reader.uint32();
                if (tag === error)
                    break;
                switch (tag >>> 3) {
                case 1: {
                        message.epoch = reader.string();
                        break;
                    }
                case 2: {
                        message.since = reader.uint64();
                        break;
                    }
                case 3: {
                        message.oldest = reader.uint64();
                        break;
                    }
                default:
                    reader.skipType(tag & 7, long);
                    break;
                }
            }
            if (length !== undefined) {
                if (reader.pos !== end)
                    throw RangeError("index out of range");
                reader.len = length;
            }
            return message;
        };

        /**
         * Decodes a Reset message from the specified reader or buffer, length delimited.
         * @function decodeDelimited
         * @memberof pvctrl.Reset
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @returns {pvctrl.Reset} Reset
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        Reset.decodeDelimited = function decodeDelimited(reader) {
            if (!(reader instanceof $Reader))
                reader = new $Reader(reader);
            return this.decode(reader, reader.uint32());
        };

        /**
         * Creates a Reset message from a plain object. Also converts values to their respective internal types.
         * @function fromObject
         * @memberof pvctrl.Reset
         * @static
         * @param {Object.<string,*>} object Plain object
         * @returns {pvctrl.Reset} Reset
         */
        Reset.fromObject = function fromObject(object, long) {
            if (object instanceof $root.pvctrl.Reset)
                return object;
            if (!$util.isObject(object))
                throw TypeError(".pvctrl.Reset: object expected");
            if (long === undefined)
                long = 0;
            if (long > $util.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let message = new $root.pvctrl.Reset();
            if (object.epoch != null)
                message.epoch = String(object.epoch);
            if (object.since != null)
                if ($util.Long)
                    message.since = $util.Long.fromValue(object.since, true);
                else if (typeof object.since === "string")
                    message.since = parseInt(object.since, 10);
                else if (typeof object.since === "number")
                    message.since = object.since;
                else if (typeof object.since === "object")
                    message.since = new $util.LongBits(object.since.low >>> 0, object.since.high >>> 0).toNumber(true);
            if (object.oldest != null)
                if ($util.Long)
                    message.oldest = $util.Long.fromValue(object.oldest, true);
                else if (typeof object.oldest === "string")
                    message.oldest = parseInt(object.oldest, 10);
                else if (typeof object.oldest === "number")
                    message.oldest = object.oldest;
                else if (typeof object.oldest === "object")
                    message.oldest = new $util.LongBits(object.oldest.low >>> 0, object.oldest.high >>> 0).toNumber(true);
            return message;
        };

        /**
         * Creates a plain object from a Reset message. Also converts values to other types if specified.
         * @function toObject
         * @memberof pvctrl.Reset
         * @static
         * @param {pvctrl.Reset} message Reset
         * @param {$protobuf.IConversionOptions} [options] Conversion options
         * @returns {Object.<string,*>} Plain object
         */
        Reset.toObject = function toObject(message, options, q) {
            if (!options)
                options = {};
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            let object = {};
            if (options.defaults) {
                object.epoch = "";
                if ($util.Long) {
                    let long = new $util.Long(0, 0, true);
                    object.since = options.longs === String ? long.toString() : options.longs === Number ? long.toNumber() : typeof BigInt !== "undefined" && options.longs === BigInt ? long.toBigInt() : long;
                } else
                    object.since = options.longs === String ? "0" : typeof BigInt !== "undefined" && options.longs === BigInt ? BigInt("0") : 0;
                if ($util.Long) {
                    let long = new $util.Long(0, 0, true);
                    object.oldest = options.longs === String ? long.toString() : options.longs === Number ? long.toNumber() : typeof BigInt !== "undefined" && options.longs === BigInt ? long.toBigInt() : long;
                } else
                    object.oldest = options.longs === String ? "0" : typeof BigInt !== "undefined" && options.longs === BigInt ? BigInt("0") : 0;
            }
            if (message.epoch != null && Object.hasOwnProperty.call(message, "epoch"))
                object.epoch = message.epoch;
            if (message.since != null && Object.hasOwnProperty.call(message, "since"))
                if (typeof BigInt !== "undefined" && options.longs === BigInt)
                    object.since = typeof message.since === "number" ? BigInt(message.since) : $util.Long.fromBits(message.since.low >>> 0, message.since.high >>> 0, true).toBigInt();
                else if (typeof message.since === "number")
                    object.since = options.longs === String ? String(message.since) : message.since;
                else
                    object.since = options.longs === String ? $util.Long.prototype.toString.call(message.since) : options.longs === Number ? new $util.LongBits(message.since.low >>> 0, message.since.high >>> 0).toNumber(true) : message.since;
            if (message.oldest != null && Object.hasOwnProperty.call(message, "oldest"))
                if (typeof BigInt !== "undefined" && options.longs === BigInt)
                    object.oldest = typeof message.oldest === "number" ? BigInt(message.oldest) : $util.Long.fromBits(message.oldest.low >>> 0, message.oldest.high >>> 0, true).toBigInt();
                else if (typeof message.oldest === "number")
                    object.oldest = options.longs === String ? String(message.oldest) : message.oldest;
                else
                    object.oldest = options.longs === String ? $util.Long.prototype.toString.call(message.oldest) : options.longs === Number ? new $util.LongBits(message.oldest.low >>> 0, message.oldest.high >>> 0).toNumber(true) : message.oldest;
            return object;
        };

        /**
         * Converts this Reset to JSON.
         * @function toJSON
         * @memberof pvctrl.Reset
         * @instance
         * @returns {Object.<string,*>} JSON object
         */
        Reset.prototype.toJSON = function toJSON() {
            return this.constructor.toObject(this, $protobuf.util.toJSONOptions);
        };

        return Reset;
    })();

    pvctrl.Overflow = (function() {

        /**
         * Properties of an Overflow.
         * @memberof pvctrl
         * @interface IOverflow
         * @property {number|null} [limit] Overflow limit
         */

        /**
         * Constructs a new Overflow.
         * @memberof pvctrl
         * @classdesc Represents an Overflow.
         * @implements IOverflow
         * @constructor
         * @param {pvctrl.IOverflow=} [properties] Properties to set
         */
        function Overflow(properties) {
            if (properties)
                for (let keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        }

        /**
         * Overflow limit.
         * @member {number} limit
         * @memberof pvctrl.Overflow
         * @instance
         */
        Overflow.prototype.limit = 0;

        /**
         * Creates a new Overflow instance using the specified properties.
         * @function create
         * @memberof pvctrl.Overflow
         * @static
         * @param {pvctrl.IOverflow=} [properties] Properties to set
         * @returns {pvctrl.Overflow} Overflow instance
         */
        Overflow.create = function create(properties) {
            return new Overflow(properties);
        };

        /**
         * Encodes the specified Overflow message. Does not implicitly {@link pvctrl.Overflow.verify|verify} messages.
         * @function encode
         * @memberof pvctrl.Overflow
         * @static
         * @param {pvctrl.IOverflow} message Overflow message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        Overflow.encode = function encode(message, writer, q) {
            if (!writer)
                writer = $Writer.create();
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            if (message.limit != null && Object.hasOwnProperty.call(message, "limit"))
                writer.uint32(/* id 1, wireType 0 =*/8).uint32(message.limit);
            return writer;
        };

        /**
         * Encodes the specified Overflow message, length delimited. Does not implicitly {@link pvctrl.Overflow.verify|verify} messages.
         * @function encodeDelimited
         * @memberof pvctrl.Overflow
         * @static
         * @param {pvctrl.IOverflow} message Overflow message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        Overflow.encodeDelimited = function encodeDelimited(message, writer) {
            return this.encode(message, writer && writer.len ? writer.fork() : writer).ldelim();
        };

        /**
         * Decodes an Overflow message from the specified reader or buffer.
         * @function decode
         * @memberof pvctrl.Overflow
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {pvctrl.Overflow} Overflow
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        Overflow.decode = function decode(reader, length, error, long) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (long === undefined)
                long = 0;
            if (long > $Reader.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let end, message;
            if (length === undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = new $root.pvctrl.Overflow();
            while (reader.pos < end) {
                let tag = reader.uint32();
                if (tag === error)
                    break;
                switch (tag >>> 3) {
                case 1: {
                        message.limit = reader.uint32();
                        break;
                    }
                default:
                    reader.skipType(tag & 7, long);
                    break;
                }
            }
            if (length !== undefined) {
                if (reader.pos !== end)
                    throw RangeError("index out of range");
                reader.len = length;
            }
            return message;
        };

        /**
         * Decodes an Overflow message from the specified reader or buffer, length delimited.
         * @function decodeDelimited
         * @memberof pvctrl.Overflow
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @returns {pvctrl.Overflow} Overflow
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        Overflow.decodeDelimited = function decodeDelimited(reader) {
            if (!(reader instanceof $Reader))
                reader = new $Reader(reader);
            return this.decode(reader, reader.uint32());
        };

        /**
         * Creates an Overflow message from a plain object. Also converts values to their respective internal types.
         * @function fromObject
         * @memberof pvctrl.Overflow
         * @static
         * @param {Object.<string,*>} object Plain object
         * @returns {pvctrl.Overflow} Overflow
         */
        Overflow.fromObject = function fromObject(object, long) {
            if (object instanceof $root.pvctrl.Overflow)
                return object;
            if (!$util.isObject(object))
                throw TypeError(".pvctrl.Overflow: object expected");
            if (long === undefined)
                long = 0;
            if (long > $util.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let message = new $root.pvctrl.Overflow();
            if (object.limit != null)
                message.limit = object.limit >>> 0;
            return message;
        };

        /**
         * Creates a plain object from an Overflow message. Also converts values to other types if specified.
         * @function toObject
         * @memberof pvctrl.Overflow
         * @static
         * @param {pvctrl.Overflow} message Overflow
         * @param {$protobuf.IConversionOptions} [options] Conversion options
         * @returns {Object.<string,*>} Plain object
         */
        Overflow.toObject = function toObject(message, options, q) {
            if (!options)
                options = {};
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            let object = {};
            if (options.defaults)
                object.limit = 0;
            if (message.limit != null && Object.hasOwnProperty.call(message, "limit"))
                object.limit = message.limit;
            return object;
        };

        /**
         * Converts this Overflow to JSON.
         * @function toJSON
         * @memberof pvctrl.Overflow
         * @instance
         * @returns {Object.<string,*>} JSON object
         */
        Overflow.prototype.toJSON = function toJSON() {
            return this.constructor.toObject(this, $protobuf.util.toJSONOptions);
        };

        return Overflow;
    })();

    pvctrl.ContainerStatus = (function() {

        /**
         * Properties of a ContainerStatus.
         * @memberof pvctrl
         * @interface IContainerStatus
         * @property {string|null} [name] ContainerStatus name
         * @property {string|null} [from] ContainerStatus from
         * @property {string|null} [to] ContainerStatus to
         * @property {string|null} [reason] ContainerStatus reason
         */

        /**
         * Constructs a new ContainerStatus.
         * @memberof pvctrl
         * @classdesc Represents a ContainerStatus.
         * @implements IContainerStatus
         * @constructor
         * @param {pvctrl.IContainerStatus=} [properties] Properties to set
         */
        function ContainerStatus(properties) {
            if (properties)
                for (let keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        }

        /**
         * ContainerStatus name.
         * @member {string} name
         * @memberof pvctrl.ContainerStatus
         * @instance
         */
        ContainerStatus.prototype.name = "";

        /**
         * ContainerStatus from.
         * @member {string} from
         * @memberof pvctrl.ContainerStatus
         * @instance
         */
        ContainerStatus.prototype.from = "";

        /**
         * ContainerStatus to.
         * @member {string} to
         * @memberof pvctrl.ContainerStatus
         * @instance
         */
        ContainerStatus.prototype.to = "";

        /**
         * ContainerStatus reason.
         * @member {string} reason
         * @memberof pvctrl.ContainerStatus
         * @instance
         */
        ContainerStatus.prototype.reason = "";

        /**
         * Creates a new ContainerStatus instance using the specified properties.
         * @function create
         * @memberof pvctrl.ContainerStatus
         * @static
         * @param {pvctrl.IContainerStatus=} [properties] Properties to set
         * @returns {pvctrl.ContainerStatus} ContainerStatus instance
         */
        ContainerStatus.create = function create(properties) {
            return new ContainerStatus(properties);
        };

        /**
         * Encodes the specified ContainerStatus message. Does not implicitly {@link pvctrl.ContainerStatus.verify|verify} messages.
         * @function encode
         * @memberof pvctrl.ContainerStatus
         * @static
         * @param {pvctrl.IContainerStatus} message ContainerStatus message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        ContainerStatus.encode = function encode(message, writer, q) {
            if (!writer)
                writer = $Writer.create();
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            if (message.name != null && Object.hasOwnProperty.call(message, "name"))
                writer.uint32(/* id 1, wireType 2 =*/10).string(message.name);
            if (message.from != null && Object.hasOwnProperty.call(message, "from"))
                writer.uint32(/* id 2, wireType 2 =*/18).string(message.from);
            if (message.to != null && Object.hasOwnProperty.call(message, "to"))
                writer.uint32(/* id 3, wireType 2 =*/26).string(message.to);
            if (message.reason != null && Object.hasOwnProperty.call(message, "reason"))
                writer.uint32(/* id 4, wireType 2 =*/34).string(message.reason);
            return writer;
        };

        /**
         * Encodes the specified ContainerStatus message, length delimited. Does not implicitly {@link pvctrl.ContainerStatus.verify|verify} messages.
         * @function encodeDelimited
         * @memberof pvctrl.ContainerStatus
         * @static
         * @param {pvctrl.IContainerStatus} message ContainerStatus message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        ContainerStatus.encodeDelimited = function encodeDelimited(message, writer) {
            return this.encode(message, writer && writer.len ? writer.fork() : writer).ldelim();
        };

        /**
         * Decodes a ContainerStatus message from the specified reader or buffer.
         * @function decode
         * @memberof pvctrl.ContainerStatus
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {pvctrl.ContainerStatus} ContainerStatus
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        ContainerStatus.decode = function decode(reader, length, error, long) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (long === undefined)
                long = 0;
            if (long > $Reader.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let end, message;
            if (length === undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = new $root.pvctrl.ContainerStatus();
            while (reader.pos < end) {
                let tag = reader.uint32();
                if (tag === error)
                    break;
                switch (tag >>> 3) {
                case 1: {
                        message.name = reader.string();
                        break;
                    }
                case 2: {
                        message.from = reader.string();
                        break;
                    }
                case 3: {
                        message.to = reader.string();
                        break;
                    }
                case 4: {
                        message.reason = reader.string();
                        break;
                    }
                default:
                    reader.skipType(tag & 7, long);
                    break;
                }
            }
            if (length !== undefined) {
                if (reader.pos !== end)
                    throw RangeError("index out of range");
                reader.len = length;
            }
            return message;
        };

        /**
         * Decodes a ContainerStatus message from the specified reader or buffer, length delimited.
         * @function decodeDelimited
         * @memberof pvctrl.ContainerStatus
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @returns {pvctrl.ContainerStatus} ContainerStatus
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        ContainerStatus.decodeDelimited = function decodeDelimited(reader) {
            if (!(reader instanceof $Reader))
                reader = new $Reader(reader);
            return this.decode(reader, reader.uint32());
        };

        /**
         * Creates a ContainerStatus message from a plain object. Also converts values to their respective internal types.
         * @function fromObject
         * @memberof pvctrl.ContainerStatus
         * @static
         * @param {Object.<string,*>} object Plain object
         * @returns {pvctrl.ContainerStatus} ContainerStatus
         */
        ContainerStatus.fromObject = function fromObject(object, long) {
            if (object instanceof $root.pvctrl.ContainerStatus)
                return object;
            if (!$util.isObject(object))
                throw TypeError(".pvctrl.ContainerStatus: object expected");
            if (long === undefined)
                long = 0;
            if (long > $util.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let message = new $root.pvctrl.ContainerStatus();
            if (object.name != null)
                message.name = String(object.name);
            if (object.from != null)
                message.from = String(object.from);
            if (object.to != null)
                message.to = String(object.to);
            if (object.reason != null)
                message.reason = String(object.reason);
            return message;
        };

        /**
         * Creates a plain object from a ContainerStatus message. Also converts values to other types if specified.
         * @function toObject
         * @memberof pvctrl.ContainerStatus
         * @static
         * @param {pvctrl.ContainerStatus} message ContainerStatus
         * @param {$protobuf.IConversionOptions} [options] Conversion options
         * @returns {Object.<string,*>} Plain object
         */
        ContainerStatus.toObject = function toObject(message, options, q) {
            if (!options)
                options = {};
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            let object = {};
            if (options.defaults) {
                object.name = "";
                object.from = "";
                object.to = "";
                object.reason = "";
            }
            if (message.name != null && Object.hasOwnProperty.call(message, "name"))
                object.name = message.name;
            if (message.from != null && Object.hasOwnProperty.call(message, "from"))
                object.from = message.from;
            if (message.to != null && Object.hasOwnProperty.call(message, "to"))
                object.to = message.to;
            if (message.reason != null && Object.hasOwnProperty.call(message, "reason"))
                object.reason = message.reason;
            return object;
        };

        /**
         * Converts this ContainerStatus to JSON.
         * @function toJSON
         * @memberof pvctrl.ContainerStatus
         * @instance
         * @returns {Object.<string,*>} JSON object
         */
        ContainerStatus.prototype.toJSON = function toJSON() {
            return this.constructor.toObject(this, $protobuf.util.toJSONOptions);
        };

        return ContainerStatus;
    })();

    pvctrl.GroupStatus = (function() {

        /**
         * Properties of a GroupStatus.
         * @memberof pvctrl
         * @interface IGroupStatus
         * @property {string|null} [name] GroupStatus name
         * @property {string|null} [from] GroupStatus from
         * @property {string|null} [to] GroupStatus to
         */

        /**
         * Constructs a new GroupStatus.
         * @memberof pvctrl
         * @classdesc Represents a GroupStatus.
         * @implements IGroupStatus
         * @constructor
         * @param {pvctrl.IGroupStatus=} [properties] Properties to set
         */
        function GroupStatus(properties) {
            if (properties)
                for (let keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        }

        /**
         * GroupStatus name.
         * @member {string} name
         * @memberof pvctrl.GroupStatus
         * @instance
         */
        GroupStatus.prototype.name = "";

        /**
         * GroupStatus from.
         * @member {string} from
         * @memberof pvctrl.GroupStatus
         * @instance
         */
        GroupStatus.prototype.from = "";

        /**
         * GroupStatus to.
         * @member {string} to
         * @memberof pvctrl.GroupStatus
         * @instance
         */
        GroupStatus.prototype.to = "";

        /**
         * Creates a new GroupStatus instance using the specified properties.
         * @function create
         * @memberof pvctrl.GroupStatus
         * @static
         * @param {pvctrl.IGroupStatus=} [properties] Properties to set
         * @returns {pvctrl.GroupStatus} GroupStatus instance
         */
        GroupStatus.create = function create(properties) {
            return new GroupStatus(properties);
        };

        /**
         * Encodes the specified GroupStatus message. Does not implicitly {@link pvctrl.GroupStatus.verify|verify} messages.
         * @function encode
         * @memberof pvctrl.GroupStatus
         * @static
         * @param {pvctrl.IGroupStatus} message GroupStatus message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        GroupStatus.encode = function encode(message, writer, q) {
            if (!writer)
                writer = $Writer.create();
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            if (message.name != null && Object.hasOwnProperty.call(message, "name"))
                writer.uint32(/* id 1, wireType 2 =*/10).string(message.name);
            if (message.from != null && Object.hasOwnProperty.call(message, "from"))
                writer.uint32(/* id 2, wireType 2 =*/18).string(message.from);
            if (message.to != null && Object.hasOwnProperty.call(message, "to"))
                writer.uint32(/* id 3, wireType 2 =*/26).string(message.to);
            return writer;
        };

        /**
         * Encodes the specified GroupStatus message, length delimited. Does not implicitly {@link pvctrl.GroupStatus.verify|verify} messages.
         * @function encodeDelimited
         * @memberof pvctrl.GroupStatus
         * @static
         * @param {pvctrl.IGroupStatus} message GroupStatus message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        GroupStatus.encodeDelimited = function encodeDelimited(message, writer) {
            return this.encode(message, writer && writer.len ? writer.fork() : writer).ldelim();
        };

        /**
         * Decodes a GroupStatus message from the specified reader or buffer.
         * @function decode
         * @memberof pvctrl.GroupStatus
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {pvctrl.GroupStatus} GroupStatus
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        GroupStatus.decode = function decode(reader, length, error, long) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (long === undefined)
                long = 0;
            if (long > $Reader.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let end, message;
            if (length === undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = new $root.pvctrl.GroupStatus();
            while (reader.pos < end) {
                let tag = reader.uint32();
                if (tag === error)
                    break;
                switch (tag >>> 3) {
                case 1: {
                        message.name = reader.string();
                        break;
                    }
                case 2: {
                        message.from = reader.string();
                        break;
                    }
                case 3: {
                        message.to = reader.string();
                        break;
                    }
                default:
                    reader.skipType(tag & 7, long);
                    break;
                }
            }
            if (length !== undefined) {
                if (reader.pos !== end)
                    throw RangeError("index out of range");
                reader.len = length;
            }
            return message;
        };

        /**
         * Decodes a GroupStatus message from the specified reader or buffer, length delimited.
         * @function decodeDelimited
         * @memberof pvctrl.GroupStatus
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @returns {pvctrl.GroupStatus} GroupStatus
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        GroupStatus.decodeDelimited = function decodeDelimited(reader) {
            if (!(reader instanceof $Reader))
                reader = new $Reader(reader);
            return this.decode(reader, reader.uint32());
        };

        /**
         * Creates a GroupStatus message from a plain object. Also converts values to their respective internal types.
         * @function fromObject
         * @memberof pvctrl.GroupStatus
         * @static
         * @param {Object.<string,*>} object Plain object
         * @returns {pvctrl.GroupStatus} GroupStatus
         */
        GroupStatus.fromObject = function fromObject(object, long) {
            if (object instanceof $root.pvctrl.GroupStatus)
                return object;
            if (!$util.isObject(object))
                throw TypeError(".pvctrl.GroupStatus: object expected");
            if (long === undefined)
                long = 0;
            if (long > $util.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let message = new $root.pvctrl.GroupStatus();
            if (object.name != null)
                message.name = String(object.name);
            if (object.from != null)
                message.from = String(object.from);
            if (object.to != null)
                message.to = String(object.to);
            return message;
        };

        /**
         * Creates a plain object from a GroupStatus message. Also converts values to other types if specified.
         * @function toObject
         * @memberof pvctrl.GroupStatus
         * @static
         * @param {pvctrl.GroupStatus} message GroupStatus
         * @param {$protobuf.IConversionOptions} [options] Conversion options
         * @returns {Object.<string,*>} Plain object
         */
        GroupStatus.toObject = function toObject(message, options, q) {
            if (!options)
                options = {};
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            let object = {};
            if (options.defaults) {
                object.name = "";
                object.from = "";
                object.to = "";
            }
            if (message.name != null && Object.hasOwnProperty.call(message, "name"))
                object.name = message.name;
            if (message.from != null && Object.hasOwnProperty.call(message, "from"))
                object.from = message.from;
            if (message.to != null && Object.hasOwnProperty.call(message, "to"))
                object.to = message.to;
            return object;
        };

        /**
         * Converts this GroupStatus to JSON.
         * @function toJSON
         * @memberof pvctrl.GroupStatus
         * @instance
         * @returns {Object.<string,*>} JSON object
         */
        GroupStatus.prototype.toJSON = function toJSON() {
            return this.constructor.toObject(this, $protobuf.util.toJSONOptions);
        };

        return GroupStatus;
    })();

    pvctrl.Progress = (function() {

        /**
         * Properties of a Progress.
         * @memberof pvctrl
         * @interface IProgress
         * @property {string|null} [status] Progress status
         * @property {string|null} [statusMsg] Progress statusMsg
         * @property {number|null} [progress] Progress progress
         * @property {number|null} [retries] Progress retries
         * @property {string|null} [extra] Progress extra
         */

        /**
         * Constructs a new Progress.
         * @memberof pvctrl
         * @classdesc Represents a Progress.
         * @implements IProgress
         * @constructor
         * @param {pvctrl.IProgress=} [properties] Properties to set
         */
        function Progress(properties) {
            if (properties)
                for (let keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        }

        /**
         * Progress status.
         * @member {string} status
         * @memberof pvctrl.Progress
         * @instance
         */
        Progress.prototype.status = "";

        /**
         * Progress statusMsg.
         * @member {string} statusMsg
         * @memberof pvctrl.Progress
         * @instance
         */
        Progress.prototype.statusMsg = "";

        /**
         * Progress progress.
         * @member {number} progress
         * @memberof pvctrl.Progress
         * @instance
         */
        Progress.prototype.progress = 0;

        /**
         * Progress retries.
         * @member {number} retries
         * @memberof pvctrl.Progress
         * @instance
         */
        Progress.prototype.retries = 0;

        /**
         * Progress extra.
         * @member {string} extra
         * @memberof pvctrl.Progress
         * @instance
         */
        Progress.prototype.extra = "";

        /**
         * Creates a new Progress instance using the specified properties.
         * @function create
         * @memberof pvctrl.Progress
         * @static
         * @param {pvctrl.IProgress=} [properties] Properties to set
         * @returns {pvctrl.Progress} Progress instance
         */
        Progress.create = function create(properties) {
            return new Progress(properties);
        };

        /**
         * Encodes the specified Progress message. Does not implicitly {@link pvctrl.Progress.verify|verify} messages.
         * @function encode
         * @memberof pvctrl.Progress
         * @static
         * @param {pvctrl.IProgress} message Progress message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        Progress.encode = function encode(message, writer, q) {
            if (!writer)
                writer = $Writer.create();
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            if (message.status != null && Object.hasOwnProperty.call(message, "status"))
                writer.uint32(/* id 1, wireType 2 =*/10).string(message.status);
            if (message.statusMsg != null && Object.hasOwnProperty.call(message, "statusMsg"))
                writer.uint32(/* id 2, wireType 2 =*/18).string(message.statusMsg);
            if (message.progress != null && Object.hasOwnProperty.call(message, "progress"))
                writer.uint32(/* id 3, wireType 0 =*/24).int32(message.progress);
            if (message.retries != null && Object.hasOwnProperty.call(message, "retries"))
                writer.uint32(/* id 4, wireType 0 =*/32).int32(message.retries);
            if (message.extra != null && Object.hasOwnProperty.call(message, "extra"))
                writer.uint32(/* id 5, wireType 2 =*/42).string(message.extra);
            return writer;
        };

        /**
         * Encodes the specified Progress message, length delimited. Does not implicitly {@link pvctrl.Progress.verify|verify} messages.
         * @function encodeDelimited
         * @memberof pvctrl.Progress
         * @static
         * @param {pvctrl.IProgress} message Progress message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        Progress.encodeDelimited = function encodeDelimited(message, writer) {
            return this.encode(message, writer && writer.len ? writer.fork() : writer).ldelim();
        };

        /**
         * Decodes a Progress message from the specified reader or buffer.
         * @function decode
         * @memberof pvctrl.Progress
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {pvctrl.Progress} Progress
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        Progress.decode = function decode(reader, length, error, long) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (long === undefined)
                long = 0;
            if (long > $Reader.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let end, message;
            if (length === undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = new $root.pvctrl.Progress();
            while (reader.pos < end) {
                let tag = reader.uint32();
                if (tag === error)
                    break;
                switch (tag >>> 3) {
                case 1: {
                        message.status = reader.string();
                        break;
                    }
                case 2: {
                        message.statusMsg = reader.string();
                        break;
                    }
                case 3: {
                        message.progress = reader.int32();
                        break;
                    }
                case 4: {
                        message.retries = reader.int32();
                        break;
                    }
                case 5: {
                        message.extra = reader.string();
                        break;
                    }
                default:
                    reader.skipType(tag & 7, long);
                    break;
                }
            }
            if (length !== undefined) {
                if (reader.pos !== end)
                    throw RangeError("index out of range");
                reader.len = length;
            }
            return message;
        };

        /**
         * Decodes a Progress message from the specified reader or buffer, length delimited.
         * @function decodeDelimited
         * @memberof pvctrl.Progress
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @returns {pvctrl.Progress} Progress
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        Progress.decodeDelimited = function decodeDelimited(reader) {
            if (!(reader instanceof $Reader))
                reader = new $Reader(reader);
            return this.decode(reader, reader.uint32());
        };

        /**
         * Creates a Progress message from a plain object. Also converts values to their respective internal types.
         * @function fromObject
         * @memberof pvctrl.Progress
         * @static
         * @param {Object.<string,*>} object Plain object
         * @returns {pvctrl.Progress} Progress
         */
        Progress.fromObject = function fromObject(object, long) {
            if (object instanceof $root.pvctrl.Progress)
                return object;
            if (!$util.isObject(object))
                throw TypeError(".pvctrl.Progress: object expected");
            if (long === undefined)
                long = 0;
            if (long > $util.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let message = new $root.pvctrl.Progress();
            if (object.status != null)
                message.status = String(object.status);
            if (object.statusMsg != null)
                message.statusMsg = String(object.statusMsg);
            if (object.progress != null)
                message.progress = object.progress | 0;
            if (object.retries != null)
                message.retries = object.retries | 0;
            if (object.extra != null)
                message.extra = String(object.extra);
            return message;
        };

        /**
         * Creates a plain object from a Progress message. Also converts values to other types if specified.
         * @function toObject
         * @memberof pvctrl.Progress
         * @static
         * @param {pvctrl.Progress} message Progress
         * @param {$protobuf.IConversionOptions} [options] Conversion options
         * @returns {Object.<string,*>} Plain object
         */
        Progress.toObject = function toObject(message, options, q) {
            if (!options)
                options = {};
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            let object = {};
            if (options.defaults) {
                object.status = "";
                object.statusMsg = "";
                object.progress = 0;
                object.retries = 0;
                object.extra = "";
            }
            if (message.status != null && Object.hasOwnProperty.call(message, "status"))
                object.status = message.status;
            if (message.statusMsg != null && Object.hasOwnProperty.call(message, "statusMsg"))
                object.statusMsg = message.statusMsg;
            if (message.progress != null && Object.hasOwnProperty.call(message, "progress"))
                object.progress = message.progress;
            if (message.retries != null && Object.hasOwnProperty.call(message, "retries"))
                object.retries = message.retries;
            if (message.extra != null && Object.hasOwnProperty.call(message, "extra"))
                object.extra = message.extra;
            return object;
        };

        /**
         * Converts this Progress to JSON.
         * @function toJSON
         * @memberof pvctrl.Progress
         * @instance
         * @returns {Object.<string,*>} JSON object
         */
        Progress.prototype.toJSON = function toJSON() {
            return this.constructor.toObject(this, $protobuf.util.toJSONOptions);
        };

        return Progress;
    })();

    pvctrl.RevisionProgress = (function() {

        /**
         * Properties of a RevisionProgress.
         * @memberof pvctrl
         * @interface IRevisionProgress
         * @property {string|null} [revision] RevisionProgress revision
         * @property {pvctrl.IProgress|null} [progress] RevisionProgress progress
         */

        /**
         * Constructs a new RevisionProgress.
         * @memberof pvctrl
         * @classdesc Represents a RevisionProgress.
         * @implements IRevisionProgress
         * @constructor
         * @param {pvctrl.IRevisionProgress=} [properties] Properties to set
         */
        function RevisionProgress(properties) {
            if (properties)
                for (let keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        }

        /**
         * RevisionProgress revision.
         * @member {string} revision
         * @memberof pvctrl.RevisionProgress
         * @instance
         */
        RevisionProgress.prototype.revision = "";

        /**
         * RevisionProgress progress.
         * @member {pvctrl.IProgress|null|undefined} progress
         * @memberof pvctrl.RevisionProgress
         * @instance
         */
        RevisionProgress.prototype.progress = null;

        /**
         * Creates a new RevisionProgress instance using the specified properties.
         * @function create
         * @memberof pvctrl.RevisionProgress
         * @static
         * @param {pvctrl.IRevisionProgress=} [properties] Properties to set
         * @returns {pvctrl.RevisionProgress} RevisionProgress instance
         */
        RevisionProgress.create = function create(properties) {
            return new RevisionProgress(properties);
        };

        /**
         * Encodes the specified RevisionProgress message. Does not implicitly {@link pvctrl.RevisionProgress.verify|verify} messages.
         * @function encode
         * @memberof pvctrl.RevisionProgress
         * @static
         * @param {pvctrl.IRevisionProgress} message RevisionProgress message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        RevisionProgress.encode = function encode(message, writer, q) {
            if (!writer)
                writer = $Writer.create();
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            if (message.revision != null && Object.hasOwnProperty.call(message, "revision"))
                writer.uint32(/* id 1, wireType 2 =*/10).string(message.revision);
            if (message.progress != null && Object.hasOwnProperty.call(message, "progress"))
                $root.pvctrl.Progress.encode(message.progress, writer.uint32(/* id 2, wireType 2 =*/18).fork(), q + 1).ldelim();
            return writer;
        };

        /**
         * Encodes the specified RevisionProgress message, length delimited. Does not implicitly {@link pvctrl.RevisionProgress.verify|verify} messages.
         * @function encodeDelimited
         * @memberof pvctrl.RevisionProgress
         * @static
         * @param {pvctrl.IRevisionProgress} message RevisionProgress message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        RevisionProgress.encodeDelimited = function encodeDelimited(message, writer) {
            return this.encode(message, writer && writer.len ? writer.fork() : writer).ldelim();
        };

        /**
         * Decodes a RevisionProgress message from the specified reader or buffer.
         * @function decode
         * @memberof pvctrl.RevisionProgress
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {pvctrl.RevisionProgress} RevisionProgress
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        RevisionProgress.decode = function decode(reader, length, error, long) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (long === undefined)
                long = 0;
            if (long > $Reader.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let end, message;
            if (length === undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = new $root.pvctrl.RevisionProgress();
            while (reader.pos < end) {
                let tag = reader.uint32();
                if (tag === error)
                    break;
                switch (tag >>> 3) {
                case 1: {
                        message.revision = reader.string();
                        break;
                    }
                case 2: {
                        message.progress = $root.pvctrl.Progress.decode(reader, reader.uint32(), undefined, long + 1);
                        break;
                    }
                default:
                    reader.skipType(tag & 7, long);
                    break;
                }
            }
            if (length !== undefined) {
                if (reader.pos !== end)
                    throw RangeError("index out of range");
                reader.len = length;
            }
            return message;
        };

        /**
         * Decodes a RevisionProgress message from the specified reader or buffer, length delimited.
         * @function decodeDelimited
         * @memberof pvctrl.RevisionProgress
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @returns {pvctrl.RevisionProgress} RevisionProgress
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        RevisionProgress.decodeDelimited = function decodeDelimited(reader) {
            if (!(reader instanceof $Reader))
                reader = new $Reader(reader);
            return this.decode(reader, reader.uint32());
        };

        /**
         * Creates a RevisionProgress message from a plain object. Also converts values to their respective internal types.
         * @function fromObject
         * @memberof pvctrl.RevisionProgress
         * @static
         * @param {Object.<string,*>} object Plain object
         * @returns {pvctrl.RevisionProgress} RevisionProgress
         */
        RevisionProgress.fromObject = function fromObject(object, long) {
            if (object instanceof $root.pvctrl.RevisionProgress)
                return object;
            if (!$util.isObject(object))
                throw TypeError(".pvctrl.RevisionProgress: object expected");
            if (long === undefined)
                long = 0;
            if (long > $util.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let message = new $root.pvctrl.RevisionProgress();
            if (object.revision != null)
                message.revision = String(object.revision);
            if (object.progress != null) {
                if (!$util.isObject(object.progress))
                    throw TypeError(".pvctrl.RevisionProgress.progress: object expected");
                message.progress = $root.pvctrl.Progress.fromObject(object.progress, long + 1);
            }
            return message;
        };

        /**
         * Creates a plain object from a RevisionProgress message. Also converts values to other types if specified.
         * @function toObject
         * @memberof pvctrl.RevisionProgress
         * @static
         * @param {pvctrl.RevisionProgress} message RevisionProgress
         * @param {$protobuf.IConversionOptions} [options] Conversion options
         * @returns {Object.<string,*>} Plain object
         */
        RevisionProgress.toObject = function toObject(message, options, q) {
            if (!options)
                options = {};
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            let object = {};
            if (options.defaults) {
                object.revision = "";
                object.progress = null;
            }
            if (message.revision != null && Object.hasOwnProperty.call(message, "revision"))
                object.revision = message.revision;
            if (message.progress != null && Object.hasOwnProperty.call(message, "progress"))
                object.progress = $root.pvctrl.Progress.toObject(message.progress, options, q + 1);
            return object;
        };

        /**
         * Converts this RevisionProgress to JSON.
         * @function toJSON
         * @memberof pvctrl.RevisionProgress
         * @instance
         * @returns {Object.<string,*>} JSON object
         */
        RevisionProgress.prototype.toJSON = function toJSON() {
            return this.constructor.toObject(this, $protobuf.util.toJSONOptions);
        };

        return RevisionProgress;
    })();

    pvctrl.MetaChange = (function() {

        /**
         * Properties of a MetaChange.
         * @memberof pvctrl
         * @interface IMetaChange
         * @property {string|null} [store] MetaChange store
         * @property {string|null} [key] MetaChange key
         * @property {string|null} [action] MetaChange action
         * @property {string|null} [value] MetaChange value
         * @property {number|null} [size] MetaChange size
         */

        /**
         * Constructs a new MetaChange.
         * @memberof pvctrl
         * @classdesc Represents a MetaChange.
         * @implements IMetaChange
         * @constructor
         * @param {pvctrl.IMetaChange=} [properties] Properties to set
         */
        function MetaChange(properties) {
            if (properties)
                for (let keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        }

        /**
         * MetaChange store.
         * @member {string} store
         * @memberof pvctrl.MetaChange
         * @instance
         */
        MetaChange.prototype.store = "";

        /**
         * MetaChange key.
         * @member {string} key
         * @memberof pvctrl.MetaChange
         * @instance
         */
        MetaChange.prototype.key = "";

        /**
         * MetaChange action.
         * @member {string} action
         * @memberof pvctrl.MetaChange
         * @instance
         */
        MetaChange.prototype.action = "";

        /**
         * MetaChange value.
         * @member {string|null|undefined} value
         * @memberof pvctrl.MetaChange
         * @instance
         */
        MetaChange.prototype.value = null;

        /**
         * MetaChange size.
         * @member {number} size
         * @memberof pvctrl.MetaChange
         * @instance
         */
        MetaChange.prototype.size = 0;

        // OneOf field names bound to virtual getters and setters
        let $oneOfFields;

        // Virtual OneOf for proto3 optional field
        Object.defineProperty(MetaChange.prototype, "_value", {
            get: $util.oneOfGetter($oneOfFields = ["value"]),
            set: $util.oneOfSetter($oneOfFields)
        });

        /**
         * Creates a new MetaChange instance using the specified properties.
         * @function create
         * @memberof pvctrl.MetaChange
         * @static
         * @param {pvctrl.IMetaChange=} [properties] Properties to set
         * @returns {pvctrl.MetaChange} MetaChange instance
         */
        MetaChange.create = function create(properties) {
            return new MetaChange(properties);
        };

        /**
         * Encodes the specified MetaChange message. Does not implicitly {@link pvctrl.MetaChange.verify|verify} messages.
         * @function encode
         * @memberof pvctrl.MetaChange
         * @static
         * @param {pvctrl.IMetaChange} message MetaChange message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        MetaChange.encode = function encode(message, writer, q) {
            if (!writer)
                writer = $Writer.create();
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            if (message.store != null && Object.hasOwnProperty.call(message, "store"))
                writer.uint32(/* id 1, wireType 2 =*/10).string(message.store);
            if (message.key != null && Object.hasOwnProperty.call(message, "key"))
                writer.uint32(/* id 2, wireType 2 =*/18).string(message.key);
            if (message.action != null && Object.hasOwnProperty.call(message, "action"))
                writer.uint32(/* id 3, wireType 2 =*/26).string(message.action);
            if (message.value != null && Object.hasOwnProperty.call(message, "value"))
                writer.uint32(/* id 4, wireType 2 =*/34).string(message.value);
            if (message.size != null && Object.hasOwnProperty.call(message, "size"))
                writer.uint32(/* id 5, wireType 0 =*/40).uint32(message.size);
            return writer;
        };

        /**
         * Encodes the specified MetaChange message, length delimited. Does not implicitly {@link pvctrl.MetaChange.verify|verify} messages.
         * @function encodeDelimited
         * @memberof pvctrl.MetaChange
         * @static
         * @param {pvctrl.IMetaChange} message MetaChange message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        MetaChange.encodeDelimited = function encodeDelimited(message, writer) {
            return this.encode(message, writer && writer.len ? writer.fork() : writer).ldelim();
        };

        /**
         * Decodes a MetaChange message from the specified reader or buffer.
         * @function decode
         * @memberof pvctrl.MetaChange
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {pvctrl.MetaChange} MetaChange
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        MetaChange.decode = function decode(reader, length, error, long) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (long === undefined)
                long = 0;
            if (long > $Reader.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let end, message;
            if (length === undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = new $root.pvctrl.MetaChange();
            while (reader.pos < end) {
                let tag = reader.uint32();
                if (tag === error)
                    break;
                switch (tag >>> 3) {
                case 1: {
                        message.store = reader.string();
                        break;
                    }
                case 2: {
                        message.key = reader.string();
                        break;
                    }
                case 3: {
                        message.action = reader.string();
                        break;
                    }
                case 4: {
                        message.value = reader.string();
                        break;
                    }
                case 5: {
                        message.size = reader.uint32();
                        break;
                    }
                default:
                    reader.skipType(tag & 7, long);
                    break;
                }
            }
            if (length !== undefined) {
                if (reader.pos !== end)
                    throw RangeError("index out of range");
                reader.len = length;
            }
            return message;
        };

        /**
         * Decodes a MetaChange message from the specified reader or buffer, length delimited.
         * @function decodeDelimited
         * @memberof pvctrl.MetaChange
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @returns {pvctrl.MetaChange} MetaChange
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        MetaChange.decodeDelimited = function decodeDelimited(reader) {
            if (!(reader instanceof $Reader))
                reader = new $Reader(reader);
            return this.decode(reader, reader.uint32());
        };

        /**
         * Creates a MetaChange message from a plain object. Also converts values to their respective internal types.
         * @function fromObject
         * @memberof pvctrl.MetaChange
         * @static
         * @param {Object.<string,*>} object Plain object
         * @returns {pvctrl.MetaChange} MetaChange
         */
        MetaChange.fromObject = function fromObject(object, long) {
            if (object instanceof $root.pvctrl.MetaChange)
                return object;
            if (!$util.isObject(object))
                throw TypeError(".pvctrl.MetaChange: object expected");
            if (long === undefined)
                long = 0;
            if (long > $util.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let message = new $root.pvctrl.MetaChange();
            if (object.store != null)
                message.store = String(object.store);
            if (object.key != null)
                message.key = String(object.key);
            if (object.action != null)
                message.action = String(object.action);
            if (object.value != null)
                message.value = String(object.value);
            if (object.size != null)
                message.size = object.size >>> 0;
            return message;
        };

        /**
         * Creates a plain object from a MetaChange message. Also converts values to other types if specified.
         * @function toObject
         * @memberof pvctrl.MetaChange
         * @static
         * @param {pvctrl.MetaChange} message MetaChange
         * @param {$protobuf.IConversionOptions} [options] Conversion options
         * @returns {Object.<string,*>} Plain object
         */
        MetaChange.toObject = function toObject(message, options, q) {
            if (!options)
                options = {};
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            let object = {};
            if (options.defaults) {
                object.store = "";
                object.key = "";
                object.action = "";
                object.size = 0;
            }
            if (message.store != null && Object.hasOwnProperty.call(message, "store"))
                object.store = message.store;
            if (message.key != null && Object.hasOwnProperty.call(message, "key"))
                object.key = message.key;
            if (message.action != null && Object.hasOwnProperty.call(message, "action"))
                object.action = message.action;
            if (message.value != null && Object.hasOwnProperty.call(message, "value")) {
                object.value = message.value;
                if (options.oneofs)
                    object._value = "value";
            }
            if (message.size != null && Object.hasOwnProperty.call(message, "size"))
                object.size = message.size;
            return object;
        };

        /**
         * Converts this MetaChange to JSON.
         * @function toJSON
         * @memberof pvctrl.MetaChange
         * @instance
         * @returns {Object.<string,*>} JSON object
         */
        MetaChange.prototype.toJSON = function toJSON() {
            return this.constructor.toObject(this, $protobuf.util.toJSONOptions);
        };

        return MetaChange;
    })();

    pvctrl.DaemonChange = (function() {

        /**
         * Properties of a DaemonChange.
         * @memberof pvctrl
         * @interface IDaemonChange
         * @property {string|null} [name] DaemonChange name
         * @property {string|null} [action] DaemonChange action
         * @property {number|null} [exitCode] DaemonChange exitCode
         * @property {string|null} [signal] DaemonChange signal
         */

        /**
         * Constructs a new DaemonChange.
         * @memberof pvctrl
         * @classdesc Represents a DaemonChange.
         * @implements IDaemonChange
         * @constructor
         * @param {pvctrl.IDaemonChange=} [properties] Properties to set
         */
        function DaemonChange(properties) {
            if (properties)
                for (let keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        }

        /**
         * DaemonChange name.
         * @member {string} name
         * @memberof pvctrl.DaemonChange
         * @instance
         */
        DaemonChange.prototype.name = "";

        /**
         * DaemonChange action.
         * @member {string} action
         * @memberof pvctrl.DaemonChange
         * @instance
         */
        DaemonChange.prototype.action = "";

        /**
         * DaemonChange exitCode.
         * @member {number|null|undefined} exitCode
         * @memberof pvctrl.DaemonChange
         * @instance
         */
        DaemonChange.prototype.exitCode = null;

        /**
         * DaemonChange signal.
         * @member {string|null|undefined} signal
         * @memberof pvctrl.DaemonChange
         * @instance
         */
        DaemonChange.prototype.signal = null;

        // OneOf field names bound to virtual getters and setters
        let $oneOfFields;

        // Virtual OneOf for proto3 optional field
        Object.defineProperty(DaemonChange.prototype, "_exitCode", {
            get: $util.oneOfGetter($oneOfFields = ["exitCode"]),
            set: $util.oneOfSetter($oneOfFields)
        });

        // Virtual OneOf for proto3 optional field
        Object.defineProperty(DaemonChange.prototype, "_signal", {
            get: $util.oneOfGetter($oneOfFields = ["signal"]),
            set: $util.oneOfSetter($oneOfFields)
        });

        /**
         * Creates a new DaemonChange instance using the specified properties.
         * @function create
         * @memberof pvctrl.DaemonChange
         * @static
         * @param {pvctrl.IDaemonChange=} [properties] Properties to set
         * @returns {pvctrl.DaemonChange} DaemonChange instance
         */
        DaemonChange.create = function create(properties) {
            return new DaemonChange(properties);
        };

        /**
         * Encodes the specified DaemonChange message. Does not implicitly {@link pvctrl.DaemonChange.verify|verify} messages.
         * @function encode
         * @memberof pvctrl.DaemonChange
         * @static
         * @param {pvctrl.IDaemonChange} message DaemonChange message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        DaemonChange.encode = function encode(message, writer, q) {
            if (!writer)
                writer = $Writer.create();
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            if (message.name != null && Object.hasOwnProperty.call(message, "name"))
                writer.uint32(/* id 1, wireType 2 =*/10).string(message.name);
            if (message.action != null && Object.hasOwnProperty.call(message, "action"))
                writer.uint32(/* id 2, wireType 2 =*/18).string(message.action);
            if (message.exitCode != null && Object.hasOwnProperty.call(message, "exitCode"))
                writer.uint32(/* id 3, wireType 0 =*/24).int32(message.exitCode);
            if (message.signal != null && Object.hasOwnProperty.call(message, "signal"))
                writer.uint32(/* id 4, wireType 2 =*/34).string(message.signal);
            return writer;
        };

        /**
         * Encodes the specified DaemonChange message, length delimited. Does not implicitly {@link pvctrl.DaemonChange.verify|verify} messages.
         * @function encodeDelimited
         * @memberof pvctrl.DaemonChange
         * @static
         * @param {pvctrl.IDaemonChange} message DaemonChange message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        DaemonChange.encodeDelimited = function encodeDelimited(message, writer) {
            return this.encode(message, writer && writer.len ? writer.fork() : writer).ldelim();
        };

        /**
         * Decodes a DaemonChange message from the specified reader or buffer.
         * @function decode
         * @memberof pvctrl.DaemonChange
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {pvctrl.DaemonChange} DaemonChange
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        DaemonChange.decode = function decode(reader, length, error, long) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (long === undefined)
                long = 0;
            if (long > $Reader.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let end, message;
            if (length === undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = new $root.pvctrl.DaemonChange();
            while (reader.pos < end) {
                let tag = reader.uint32();
                if (tag === error)
                    break;
                switch (tag >>> 3) {
                case 1: {
                        message.name = reader.string();
                        break;
                    }
                case 2: {
                        message.action = reader.string();
                        break;
                    }
                case 3: {
                        message.exitCode = reader.int32();
                        break;
                    }
                case 4: {
                        message.signal = reader.string();
                        break;
                    }
                default:
                    reader.skipType(tag & 7, long);
                    break;
                }
            }
            if (length !== undefined) {
                if (reader.pos !== end)
                    throw RangeError("index out of range");
                reader.len = length;
            }
            return message;
        };

        /**
         * Decodes a DaemonChange message from the specified reader or buffer, length delimited.
         * @function decodeDelimited
         * @memberof pvctrl.DaemonChange
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @returns {pvctrl.DaemonChange} DaemonChange
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        DaemonChange.decodeDelimited = function decodeDelimited(reader) {
            if (!(reader instanceof $Reader))
                reader = new $Reader(reader);
            return this.decode(reader, reader.uint32());
        };

        /**
         * Creates a DaemonChange message from a plain object. Also converts values to their respective internal types.
         * @function fromObject
         * @memberof pvctrl.DaemonChange
         * @static
         * @param {Object.<string,*>} object Plain object
         * @returns {pvctrl.DaemonChange} DaemonChange
         */
        DaemonChange.fromObject = function fromObject(object, long) {
            if (object instanceof $root.pvctrl.DaemonChange)
                return object;
            if (!$util.isObject(object))
                throw TypeError(".pvctrl.DaemonChange: object expected");
            if (long === undefined)
                long = 0;
            if (long > $util.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let message = new $root.pvctrl.DaemonChange();
            if (object.name != null)
                message.name = String(object.name);
            if (object.action != null)
                message.action = String(object.action);
            if (object.exitCode != null)
                message.exitCode = object.exitCode | 0;
            if (object.signal != null)
                message.signal = String(object.signal);
            return message;
        };

        /**
         * Creates a plain object from a DaemonChange message. Also converts values to other types if specified.
         * @function toObject
         * @memberof pvctrl.DaemonChange
         * @static
         * @param {pvctrl.DaemonChange} message DaemonChange
         * @param {$protobuf.IConversionOptions} [options] Conversion options
         * @returns {Object.<string,*>} Plain object
         */
        DaemonChange.toObject = function toObject(message, options, q) {
            if (!options)
                options = {};
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            let object = {};
            if (options.defaults) {
                object.name = "";
                object.action = "";
            }
            if (message.name != null && Object.hasOwnProperty.call(message, "name"))
                object.name = message.name;
            if (message.action != null && Object.hasOwnProperty.call(message, "action"))
                object.action = message.action;
            if (message.exitCode != null && Object.hasOwnProperty.call(message, "exitCode")) {
                object.exitCode = message.exitCode;
                if (options.oneofs)
                    object._exitCode = "exitCode";
            }
            if (message.signal != null && Object.hasOwnProperty.call(message, "signal")) {
                object.signal = message.signal;
                if (options.oneofs)
                    object._signal = "signal";
            }
            return object;
        };

        /**
         * Converts this DaemonChange to JSON.
         * @function toJSON
         * @memberof pvctrl.DaemonChange
         * @instance
         * @returns {Object.<string,*>} JSON object
         */
        DaemonChange.prototype.toJSON = function toJSON() {
            return this.constructor.toObject(this, $protobuf.util.toJSONOptions);
        };

        return DaemonChange;
    })();

    pvctrl.SignalReceived = (function() {

        /**
         * Properties of a SignalReceived.
         * @memberof pvctrl
         * @interface ISignalReceived
         * @property {string|null} [container] SignalReceived container
         * @property {string|null} [signal] SignalReceived signal
         */

        /**
         * Constructs a new SignalReceived.
         * @memberof pvctrl
         * @classdesc Represents a SignalReceived.
         * @implements ISignalReceived
         * @constructor
         * @param {pvctrl.ISignalReceived=} [properties] Properties to set
         */
        function SignalReceived(properties) {
            if (properties)
                for (let keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        }

        /**
         * SignalReceived container.
         * @member {string} container
         * @memberof pvctrl.SignalReceived
         * @instance
         */
        SignalReceived.prototype.container = "";

        /**
         * SignalReceived signal.
         * @member {string} signal
         * @memberof pvctrl.SignalReceived
         * @instance
         */
        SignalReceived.prototype.signal = "";

        /**
         * Creates a new SignalReceived instance using the specified properties.
         * @function create
         * @memberof pvctrl.SignalReceived
         * @static
         * @param {pvctrl.ISignalReceived=} [properties] Properties to set
         * @returns {pvctrl.SignalReceived} SignalReceived instance
         */
        SignalReceived.create = function create(properties) {
            return new SignalReceived(properties);
        };

        /**
         * Encodes the specified SignalReceived message. Does not implicitly {@link pvctrl.SignalReceived.verify|verify} messages.
         * @function encode
         * @memberof pvctrl.SignalReceived
         * @static
         * @param {pvctrl.ISignalReceived} message SignalReceived message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        SignalReceived.encode = function encode(message, writer, q) {
            if (!writer)
                writer = $Writer.create();
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            if (message.container != null && Object.hasOwnProperty.call(message, "container"))
                writer.uint32(/* id 1, wireType 2 =*/10).string(message.container);
            if (message.signal != null && Object.hasOwnProperty.call(message, "signal"))
                writer.uint32(/* id 2, wireType 2 =*/18).string(message.signal);
            return writer;
        };

        /**
         * Encodes the specified SignalReceived message, length delimited. Does not implicitly {@link pvctrl.SignalReceived.verify|verify} messages.
         * @function encodeDelimited
         * @memberof pvctrl.SignalReceived
         * @static
         * @param {pvctrl.ISignalReceived} message SignalReceived message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        SignalReceived.encodeDelimited = function encodeDelimited(message, writer) {
            return this.encode(message, writer && writer.len ? writer.fork() : writer).ldelim();
        };

        /**
         * Decodes a SignalReceived message from the specified reader or buffer.
         * @function decode
         * @memberof pvctrl.SignalReceived
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {pvctrl.SignalReceived} SignalReceived
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        SignalReceived.decode = function decode(reader, length, error, long) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (long === undefined)
                long = 0;
            if (long > $Reader.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let end, message;
            if (length === undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = new $root.pvctrl.SignalReceived();
            while (reader.pos < end) {
                let tag = reader.uint32();
                if (tag === error)
                    break;
                switch (tag >>> 3) {
                case 1: {
                        message.container = reader.string();
                        break;
                    }
                case 2: {
                        message.signal = reader.string();
                        break;
                    }
                default:
                    reader.skipType(tag & 7, long);
                    break;
                }
            }
            if (length !== undefined) {
                if (reader.pos !== end)
                    throw RangeError("index out of range");
                reader.len = length;
            }
            return message;
        };

        /**
         * Decodes a SignalReceived message from the specified reader or buffer, length delimited.
         * @function decodeDelimited
         * @memberof pvctrl.SignalReceived
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @returns {pvctrl.SignalReceived} SignalReceived
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        SignalReceived.decodeDelimited = function decodeDelimited(reader) {
            if (!(reader instanceof $Reader))
                reader = new $Reader(reader);
            return this.decode(reader, reader.uint32());
        };

        /**
         * Creates a SignalReceived message from a plain object. Also converts values to their respective internal types.
         * @function fromObject
         * @memberof pvctrl.SignalReceived
         * @static
         * @param {Object.<string,*>} object Plain object
         * @returns {pvctrl.SignalReceived} SignalReceived
         */
        SignalReceived.fromObject = function fromObject(object, long) {
            if (object instanceof $root.pvctrl.SignalReceived)
                return object;
            if (!$util.isObject(object))
                throw TypeError(".pvctrl.SignalReceived: object expected");
            if (long === undefined)
                long = 0;
            if (long > $util.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let message = new $root.pvctrl.SignalReceived();
            if (object.container != null)
                message.container = String(object.container);
            if (object.signal != null)
                message.signal = String(object.signal);
            return message;
        };

        /**
         * Creates a plain object from a SignalReceived message. Also converts values to other types if specified.
         * @function toObject
         * @memberof pvctrl.SignalReceived
         * @static
         * @param {pvctrl.SignalReceived} message SignalReceived
         * @param {$protobuf.IConversionOptions} [options] Conversion options
         * @returns {Object.<string,*>} Plain object
         */
        SignalReceived.toObject = function toObject(message, options, q) {
            if (!options)
                options = {};
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            let object = {};
            if (options.defaults) {
                object.container = "";
                object.signal = "";
            }
            if (message.container != null && Object.hasOwnProperty.call(message, "container"))
                object.container = message.container;
            if (message.signal != null && Object.hasOwnProperty.call(message, "signal"))
                object.signal = message.signal;
            return object;
        };

        /**
         * Converts this SignalReceived to JSON.
         * @function toJSON
         * @memberof pvctrl.SignalReceived
         * @instance
         * @returns {Object.<string,*>} JSON object
         */
        SignalReceived.prototype.toJSON = function toJSON() {
            return this.constructor.toObject(this, $protobuf.util.toJSONOptions);
        };

        return SignalReceived;
    })();

    pvctrl.ObjectChange = (function() {

        /**
         * Properties of an ObjectChange.
         * @memberof pvctrl
         * @interface IObjectChange
         * @property {string|null} [sha] ObjectChange sha
         * @property {string|null} [action] ObjectChange action
         * @property {number|Long|null} [size] ObjectChange size
         */

        /**
         * Constructs a new ObjectChange.
         * @memberof pvctrl
         * @classdesc Represents an ObjectChange.
         * @implements IObjectChange
         * @constructor
         * @param {pvctrl.IObjectChange=} [properties] Properties to set
         */
        function ObjectChange(properties) {
            if (properties)
                for (let keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        }

        /**
         * ObjectChange sha.
         * @member {string} sha
         * @memberof pvctrl.ObjectChange
         * @instance
         */
        ObjectChange.prototype.sha = "";

        /**
         * ObjectChange action.
         * @member {string} action
         * @memberof pvctrl.ObjectChange
         * @instance
         */
        ObjectChange.prototype.action = "";

        /**
         * ObjectChange size.
         * @member {number|Long} size
         * @memberof pvctrl.ObjectChange
         * @instance
         */
        ObjectChange.prototype.size = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

        /**
         * Creates a new ObjectChange instance using the specified properties.
         * @function create
         * @memberof pvctrl.ObjectChange
         * @static
         * @param {pvctrl.IObjectChange=} [properties] Properties to set
         * @returns {pvctrl.ObjectChange} ObjectChange instance
         */
        ObjectChange.create = function create(properties) {
            return new ObjectChange(properties);
        };

        /**
         * Encodes the specified ObjectChange message. Does not implicitly {@link pvctrl.ObjectChange.verify|verify} messages.
         * @function encode
         * @memberof pvctrl.ObjectChange
         * @static
         * @param {pvctrl.IObjectChange} message ObjectChange message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        ObjectChange.encode = function encode(message, writer, q) {
            if (!writer)
                writer = $Writer.create();
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            if (message.sha != null && Object.hasOwnProperty.call(message, "sha"))
                writer.uint32(/* id 1, wireType 2 =*/10).string(message.sha);
            if (message.action != null && Object.hasOwnProperty.call(message, "action"))
                writer.uint32(/* id 2, wireType 2 =*/18).string(message.action);
            if (message.size != null && Object.hasOwnProperty.call(message, "size"))
                writer.uint32(/* id 3, wireType 0 =*/24).uint64(message.size);
            return writer;
        };

        /**
         * Encodes the specified ObjectChange message, length delimited. Does not implicitly {@link pvctrl.ObjectChange.verify|verify} messages.
         * @function encodeDelimited
         * @memberof pvctrl.ObjectChange
         * @static
         * @param {pvctrl.IObjectChange} message ObjectChange message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        ObjectChange.encodeDelimited = function encodeDelimited(message, writer) {
            return this.encode(message, writer && writer.len ? writer.fork() : writer).ldelim();
        };

        /**
         * Decodes an ObjectChange message from the specified reader or buffer.
         * @function decode
         * @memberof pvctrl.ObjectChange
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {pvctrl.ObjectChange} ObjectChange
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        ObjectChange.decode = function decode(reader, length, error, long) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (long === undefined)
                long = 0;
            if (long > $Reader.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let end, message;
            if (length === undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = new $root.pvctrl.ObjectChange();
            while (reader.pos < end) {
                let tag = reader.uint32();
                if (tag === error)
                    break;
                switch (tag >>> 3) {
                case 1: {
                        message.sha = reader.string();
                        break;
                    }
                case 2: {
                        message.action = reader.string();
                        break;
                    }
                case 3: {
                        message.size = reader.uint64();
                        break;
                    }
                default:
                    reader.skipType(tag & 7, long);
                    break;
                }
            }
            if (length !== undefined) {
                if (reader.pos !== end)
                    throw RangeError("index out of range");
                reader.len = length;
            }
            return message;
        };

        /**
         * Decodes an ObjectChange message from the specified reader or buffer, length delimited.
         * @function decodeDelimited
         * @memberof pvctrl.ObjectChange
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @returns {pvctrl.ObjectChange} ObjectChange
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        ObjectChange.decodeDelimited = function decodeDelimited(reader) {
            if (!(reader instanceof $Reader))
                reader = new $Reader(reader);
            return this.decode(reader, reader.uint32());
        };

        /**
         * Creates an ObjectChange message from a plain object. Also converts values to their respective internal types.
         * @function fromObject
         * @memberof pvctrl.ObjectChange
         * @static
         * @param {Object.<string,*>} object Plain object
         * @returns {pvctrl.ObjectChange} ObjectChange
         */
        ObjectChange.fromObject = function fromObject(object, long) {
            if (object instanceof $root.pvctrl.ObjectChange)
                return object;
            if (!$util.isObject(object))
                throw TypeError(".pvctrl.ObjectChange: object expected");
            if (long === undefined)
                long = 0;
            if (long > $util.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let message = new $root.pvctrl.ObjectChange();
            if (object.sha != null)
                message.sha = String(object.sha);
            if (object.action != null)
                message.action = String(object.action);
            if (object.size != null)
                if ($util.Long)
                    message.size = $util.Long.fromValue(object.size, true);
                else if (typeof object.size === "string")
                    message.size = parseInt(object.size, 10);
                else if (typeof object.size === "number")
                    message.size = object.size;
                else if (typeof object.size === "object")
                    message.size = new $util.LongBits(object.size.low >>> 0, object.size.high >>> 0).toNumber(true);
            return message;
        };

        /**
         * Creates a plain object from an ObjectChange message. Also converts values to other types if specified.
         * @function toObject
         * @memberof pvctrl.ObjectChange
         * @static
         * @param {pvctrl.ObjectChange} message ObjectChange
         * @param {$protobuf.IConversionOptions} [options] Conversion options
         * @returns {Object.<string,*>} Plain object
         */
        ObjectChange.toObject = function toObject(message, options, q) {
            if (!options)
                options = {};
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            let object = {};
            if (options.defaults) {
                object.sha = "";
                object.action = "";
                if ($util.Long) {
                    let long = new $util.Long(0, 0, true);
                    object.size = options.longs === String ? long.toString() : options.longs === Number ? long.toNumber() : typeof BigInt !== "undefined" && options.longs === BigInt ? long.toBigInt() : long;
                } else
                    object.size = options.longs === String ? "0" : typeof BigInt !== "undefined" && options.longs === BigInt ? BigInt("0") : 0;
            }
            if (message.sha != null && Object.hasOwnProperty.call(message, "sha"))
                object.sha = message.sha;
            if (message.action != null && Object.hasOwnProperty.call(message, "action"))
                object.action = message.action;
            if (message.size != null && Object.hasOwnProperty.call(message, "size"))
                if (typeof BigInt !== "undefined" && options.longs === BigInt)
                    object.size = typeof message.size === "number" ? BigInt(message.size) : $util.Long.fromBits(message.size.low >>> 0, message.size.high >>> 0, true).toBigInt();
                else if (typeof message.size === "number")
                    object.size = options.longs === String ? String(message.size) : message.size;
                else
                    object.size = options.longs === String ? $util.Long.prototype.toString.call(message.size) : options.longs === Number ? new $util.LongBits(message.size.low >>> 0, message.size.high >>> 0).toNumber(true) : message.size;
            return object;
        };

        /**
         * Converts this ObjectChange to JSON.
         * @function toJSON
         * @memberof pvctrl.ObjectChange
         * @instance
         * @returns {Object.<string,*>} JSON object
         */
        ObjectChange.prototype.toJSON = function toJSON() {
            return this.constructor.toObject(this, $protobuf.util.toJSONOptions);
        };

        return ObjectChange;
    })();

    pvctrl.CommandChange = (function() {

        /**
         * Properties of a CommandChange.
         * @memberof pvctrl
         * @interface ICommandChange
         * @property {string|null} [op] CommandChange op
         * @property {string|null} [action] CommandChange action
         * @property {boolean|null} [ok] CommandChange ok
         * @property {string|null} [error] CommandChange error
         */

        /**
         * Constructs a new CommandChange.
         * @memberof pvctrl
         * @classdesc Represents a CommandChange.
         * @implements ICommandChange
         * @constructor
         * @param {pvctrl.ICommandChange=} [properties] Properties to set
         */
        function CommandChange(properties) {
            if (properties)
                for (let keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        }

        /**
         * CommandChange op.
         * @member {string} op
         * @memberof pvctrl.CommandChange
         * @instance
         */
        CommandChange.prototype.op = "";

        /**
         * CommandChange action.
         * @member {string} action
         * @memberof pvctrl.CommandChange
         * @instance
         */
        CommandChange.prototype.action = "";

        /**
         * CommandChange ok.
         * @member {boolean} ok
         * @memberof pvctrl.CommandChange
         * @instance
         */
        CommandChange.prototype.ok = false;

        /**
         * CommandChange error.
         * @member {string} error
         * @memberof pvctrl.CommandChange
         * @instance
         */
        CommandChange.prototype.error = "";

        /**
         * Creates a new CommandChange instance using the specified properties.
         * @function create
         * @memberof pvctrl.CommandChange
         * @static
         * @param {pvctrl.ICommandChange=} [properties] Properties to set
         * @returns {pvctrl.CommandChange} CommandChange instance
         */
        CommandChange.create = function create(properties) {
            return new CommandChange(properties);
        };

        /**
         * Encodes the specified CommandChange message. Does not implicitly {@link pvctrl.CommandChange.verify|verify} messages.
         * @function encode
         * @memberof pvctrl.CommandChange
         * @static
         * @param {pvctrl.ICommandChange} message CommandChange message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        CommandChange.encode = function encode(message, writer, q) {
            if (!writer)
                writer = $Writer.create();
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            if (message.op != null && Object.hasOwnProperty.call(message, "op"))
                writer.uint32(/* id 1, wireType 2 =*/10).string(message.op);
            if (message.action != null && Object.hasOwnProperty.call(message, "action"))
                writer.uint32(/* id 2, wireType 2 =*/18).string(message.action);
            if (message.ok != null && Object.hasOwnProperty.call(message, "ok"))
                writer.uint32(/* id 3, wireType 0 =*/24).bool(message.ok);
            if (message.error != null && Object.hasOwnProperty.call(message, "error"))
                writer.uint32(/* id 4, wireType 2 =*/34).string(message.error);
            return writer;
        };

        /**
         * Encodes the specified CommandChange message, length delimited. Does not implicitly {@link pvctrl.CommandChange.verify|verify} messages.
         * @function encodeDelimited
         * @memberof pvctrl.CommandChange
         * @static
         * @param {pvctrl.ICommandChange} message CommandChange message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        CommandChange.encodeDelimited = function encodeDelimited(message, writer) {
            return this.encode(message, writer && writer.len ? writer.fork() : writer).ldelim();
        };

        /**
         * Decodes a CommandChange message from the specified reader or buffer.
         * @function decode
         * @memberof pvctrl.CommandChange
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {pvctrl.CommandChange} CommandChange
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        CommandChange.decode = function decode(reader, length, error, long) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (long === undefined)
                long = 0;
            if (long > $Reader.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let end, message;
            if (length === undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = new $root.pvctrl.CommandChange();
            while (reader.pos < end) {
                let tag = reader.uint32();
                if (tag === error)
                    break;
                switch (tag >>> 3) {
                case 1: {
                        message.op = reader.string();
                        break;
                    }
                case 2: {
                        message.action = reader.string();
                        break;
                    }
                case 3: {
                        message.ok = reader.bool();
                        break;
                    }
                case 4: {
                        message.error = reader.string();
                        break;
                    }
                default:
                    reader.skipType(tag & 7, long);
                    break;
                }
            }
            if (length !== undefined) {
                if (reader.pos !== end)
                    throw RangeError("index out of range");
                reader.len = length;
            }
            return message;
        };

        /**
         * Decodes a CommandChange message from the specified reader or buffer, length delimited.
         * @function decodeDelimited
         * @memberof pvctrl.CommandChange
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @returns {pvctrl.CommandChange} CommandChange
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        CommandChange.decodeDelimited = function decodeDelimited(reader) {
            if (!(reader instanceof $Reader))
                reader = new $Reader(reader);
            return this.decode(reader, reader.uint32());
        };

        /**
         * Creates a CommandChange message from a plain object. Also converts values to their respective internal types.
         * @function fromObject
         * @memberof pvctrl.CommandChange
         * @static
         * @param {Object.<string,*>} object Plain object
         * @returns {pvctrl.CommandChange} CommandChange
         */
        CommandChange.fromObject = function fromObject(object, long) {
            if (object instanceof $root.pvctrl.CommandChange)
                return object;
            if (!$util.isObject(object))
                throw TypeError(".pvctrl.CommandChange: object expected");
            if (long === undefined)
                long = 0;
            if (long > $util.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let message = new $root.pvctrl.CommandChange();
            if (object.op != null)
                message.op = String(object.op);
            if (object.action != null)
                message.action = String(object.action);
            if (object.ok != null)
                message.ok = Boolean(object.ok);
            if (object.error != null)
                message.error = String(object.error);
            return message;
        };

        /**
         * Creates a plain object from a CommandChange message. Also converts values to other types if specified.
         * @function toObject
         * @memberof pvctrl.CommandChange
         * @static
         * @param {pvctrl.CommandChange} message CommandChange
         * @param {$protobuf.IConversionOptions} [options] Conversion options
         * @returns {Object.<string,*>} Plain object
         */
        CommandChange.toObject = function toObject(message, options, q) {
            if (!options)
                options = {};
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            let object = {};
            if (options.defaults) {
                object.op = "";
                object.action = "";
                object.ok = false;
                object.error = "";
            }
            if (message.op != null && Object.hasOwnProperty.call(message, "op"))
                object.op = message.op;
            if (message.action != null && Object.hasOwnProperty.call(message, "action"))
                object.action = message.action;
            if (message.ok != null && Object.hasOwnProperty.call(message, "ok"))
                object.ok = message.ok;
            if (message.error != null && Object.hasOwnProperty.call(message, "error"))
                object.error = message.error;
            return object;
        };

        /**
         * Converts this CommandChange to JSON.
         * @function toJSON
         * @memberof pvctrl.CommandChange
         * @instance
         * @returns {Object.<string,*>} JSON object
         */
        CommandChange.prototype.toJSON = function toJSON() {
            return this.constructor.toObject(this, $protobuf.util.toJSONOptions);
        };

        return CommandChange;
    })();

    pvctrl.DriverChange = (function() {

        /**
         * Properties of a DriverChange.
         * @memberof pvctrl
         * @interface IDriverChange
         * @property {string|null} [alias] DriverChange alias
         * @property {string|null} [action] DriverChange action
         * @property {boolean|null} [ok] DriverChange ok
         */

        /**
         * Constructs a new DriverChange.
         * @memberof pvctrl
         * @classdesc Represents a DriverChange.
         * @implements IDriverChange
         * @constructor
         * @param {pvctrl.IDriverChange=} [properties] Properties to set
         */
        function DriverChange(properties) {
            if (properties)
                for (let keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        }

        /**
         * DriverChange alias.
         * @member {string} alias
         * @memberof pvctrl.DriverChange
         * @instance
         */
        DriverChange.prototype.alias = "";

        /**
         * DriverChange action.
         * @member {string} action
         * @memberof pvctrl.DriverChange
         * @instance
         */
        DriverChange.prototype.action = "";

        /**
         * DriverChange ok.
         * @member {boolean} ok
         * @memberof pvctrl.DriverChange
         * @instance
         */
        DriverChange.prototype.ok = false;

        /**
         * Creates a new DriverChange instance using the specified properties.
         * @function create
         * @memberof pvctrl.DriverChange
         * @static
         * @param {pvctrl.IDriverChange=} [properties] Properties to set
         * @returns {pvctrl.DriverChange} DriverChange instance
         */
        DriverChange.create = function create(properties) {
            return new DriverChange(properties);
        };

        /**
         * Encodes the specified DriverChange message. Does not implicitly {@link pvctrl.DriverChange.verify|verify} messages.
         * @function encode
         * @memberof pvctrl.DriverChange
         * @static
         * @param {pvctrl.IDriverChange} message DriverChange message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        DriverChange.encode = function encode(message, writer, q) {
            if (!writer)
                writer = $Writer.create();
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            if (message.alias != null && Object.hasOwnProperty.call(message, "alias"))
                writer.uint32(/* id 1, wireType 2 =*/10).string(message.alias);
            if (message.action != null && Object.hasOwnProperty.call(message, "action"))
                writer.uint32(/* id 2, wireType 2 =*/18).string(message.action);
            if (message.ok != null && Object.hasOwnProperty.call(message, "ok"))
                writer.uint32(/* id 3, wireType 0 =*/24).bool(message.ok);
            return writer;
        };

        /**
         * Encodes the specified DriverChange message, length delimited. Does not implicitly {@link pvctrl.DriverChange.verify|verify} messages.
         * @function encodeDelimited
         * @memberof pvctrl.DriverChange
         * @static
         * @param {pvctrl.IDriverChange} message DriverChange message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        DriverChange.encodeDelimited = function encodeDelimited(message, writer) {
            return this.encode(message, writer && writer.len ? writer.fork() : writer).ldelim();
        };

        /**
         * Decodes a DriverChange message from the specified reader or buffer.
         * @function decode
         * @memberof pvctrl.DriverChange
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {pvctrl.DriverChange} DriverChange
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        DriverChange.decode = function decode(reader, length, error, long) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (long === undefined)
                long = 0;
            if (long > $Reader.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let end, message;
            if (length === undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = new $root.pvctrl.DriverChange();
            while (reader.pos < end) {
                let tag = reader.uint32();
                if (tag === error)
                    break;
                switch (tag >>> 3) {
                case 1: {
                        message.alias = reader.string();
                        break;
                    }
                case 2: {
                        message.action = reader.string();
                        break;
                    }
                case 3: {
                        message.ok = reader.bool();
                        break;
                    }
                default:
                    reader.skipType(tag & 7, long);
                    break;
                }
            }
            if (length !== undefined) {
                if (reader.pos !== end)
                    throw RangeError("index out of range");
                reader.len = length;
            }
            return message;
        };

        /**
         * Decodes a DriverChange message from the specified reader or buffer, length delimited.
         * @function decodeDelimited
         * @memberof pvctrl.DriverChange
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @returns {pvctrl.DriverChange} DriverChange
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        DriverChange.decodeDelimited = function decodeDelimited(reader) {
            if (!(reader instanceof $Reader))
                reader = new $Reader(reader);
            return this.decode(reader, reader.uint32());
        };

        /**
         * Creates a DriverChange message from a plain object. Also converts values to their respective internal types.
         * @function fromObject
         * @memberof pvctrl.DriverChange
         * @static
         * @param {Object.<string,*>} object Plain object
         * @returns {pvctrl.DriverChange} DriverChange
         */
        DriverChange.fromObject = function fromObject(object, long) {
            if (object instanceof $root.pvctrl.DriverChange)
                return object;
            if (!$util.isObject(object))
                throw TypeError(".pvctrl.DriverChange: object expected");
            if (long === undefined)
                long = 0;
            if (long > $util.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let message = new $root.pvctrl.DriverChange();
            if (object.alias != null)
                message.alias = String(object.alias);
            if (object.action != null)
                message.action = String(object.action);
            if (object.ok != null)
                message.ok = Boolean(object.ok);
            return message;
        };

        /**
         * Creates a plain object from a DriverChange message. Also converts values to other types if specified.
         * @function toObject
         * @memberof pvctrl.DriverChange
         * @static
         * @param {pvctrl.DriverChange} message DriverChange
         * @param {$protobuf.IConversionOptions} [options] Conversion options
         * @returns {Object.<string,*>} Plain object
         */
        DriverChange.toObject = function toObject(message, options, q) {
            if (!options)
                options = {};
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            let object = {};
            if (options.defaults) {
                object.alias = "";
                object.action = "";
                object.ok = false;
            }
            if (message.alias != null && Object.hasOwnProperty.call(message, "alias"))
                object.alias = message.alias;
            if (message.action != null && Object.hasOwnProperty.call(message, "action"))
                object.action = message.action;
            if (message.ok != null && Object.hasOwnProperty.call(message, "ok"))
                object.ok = message.ok;
            return object;
        };

        /**
         * Converts this DriverChange to JSON.
         * @function toJSON
         * @memberof pvctrl.DriverChange
         * @instance
         * @returns {Object.<string,*>} JSON object
         */
        DriverChange.prototype.toJSON = function toJSON() {
            return this.constructor.toObject(this, $protobuf.util.toJSONOptions);
        };

        return DriverChange;
    })();

    pvctrl.XconnectChange = (function() {

        /**
         * Properties of a XconnectChange.
         * @memberof pvctrl
         * @interface IXconnectChange
         * @property {string|null} [cause] XconnectChange cause
         */

        /**
         * Constructs a new XconnectChange.
         * @memberof pvctrl
         * @classdesc Represents a XconnectChange.
         * @implements IXconnectChange
         * @constructor
         * @param {pvctrl.IXconnectChange=} [properties] Properties to set
         */
        function XconnectChange(properties) {
            if (properties)
                for (let keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        }

        /**
         * XconnectChange cause.
         * @member {string} cause
         * @memberof pvctrl.XconnectChange
         * @instance
         */
        XconnectChange.prototype.cause = "";

        /**
         * Creates a new XconnectChange instance using the specified properties.
         * @function create
         * @memberof pvctrl.XconnectChange
         * @static
         * @param {pvctrl.IXconnectChange=} [properties] Properties to set
         * @returns {pvctrl.XconnectChange} XconnectChange instance
         */
        XconnectChange.create = function create(properties) {
            return new XconnectChange(properties);
        };

        /**
         * Encodes the specified XconnectChange message. Does not implicitly {@link pvctrl.XconnectChange.verify|verify} messages.
         * @function encode
         * @memberof pvctrl.XconnectChange
         * @static
         * @param {pvctrl.IXconnectChange} message XconnectChange message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        XconnectChange.encode = function encode(message, writer, q) {
            if (!writer)
                writer = $Writer.create();
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            if (message.cause != null && Object.hasOwnProperty.call(message, "cause"))
                writer.uint32(/* id 1, wireType 2 =*/10).string(message.cause);
            return writer;
        };

        /**
         * Encodes the specified XconnectChange message, length delimited. Does not implicitly {@link pvctrl.XconnectChange.verify|verify} messages.
         * @function encodeDelimited
         * @memberof pvctrl.XconnectChange
         * @static
         * @param {pvctrl.IXconnectChange} message XconnectChange message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        XconnectChange.encodeDelimited = function encodeDelimited(message, writer) {
            return this.encode(message, writer && writer.len ? writer.fork() : writer).ldelim();
        };

        /**
         * Decodes a XconnectChange message from the specified reader or buffer.
         * @function decode
         * @memberof pvctrl.XconnectChange
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {pvctrl.XconnectChange} XconnectChange
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        XconnectChange.decode = function decode(reader, length, error, long) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (long === undefined)
                long = 0;
            if (long > $Reader.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let end, message;
            if (length === undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = new $root.pvctrl.XconnectChange();
            while (reader.pos < end) {
                let tag = reader.uint32();
                if (tag === error)
                    break;
                switch (tag >>> 3) {
                case 1: {
                        message.cause = reader.string();
                        break;
                    }
                default:
                    reader.skipType(tag & 7, long);
                    break;
                }
            }
            if (length !== undefined) {
                if (reader.pos !== end)
                    throw RangeError("index out of range");
                reader.len = length;
            }
            return message;
        };

        /**
         * Decodes a XconnectChange message from the specified reader or buffer, length delimited.
         * @function decodeDelimited
         * @memberof pvctrl.XconnectChange
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @returns {pvctrl.XconnectChange} XconnectChange
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        XconnectChange.decodeDelimited = function decodeDelimited(reader) {
            if (!(reader instanceof $Reader))
                reader = new $Reader(reader);
            return this.decode(reader, reader.uint32());
        };

        /**
         * Creates a XconnectChange message from a plain object. Also converts values to their respective internal types.
         * @function fromObject
         * @memberof pvctrl.XconnectChange
         * @static
         * @param {Object.<string,*>} object Plain object
         * @returns {pvctrl.XconnectChange} XconnectChange
         */
        XconnectChange.fromObject = function fromObject(object, long) {
            if (object instanceof $root.pvctrl.XconnectChange)
                return object;
            if (!$util.isObject(object))
                throw TypeError(".pvctrl.XconnectChange: object expected");
            if (long === undefined)
                long = 0;
            if (long > $util.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let message = new $root.pvctrl.XconnectChange();
            if (object.cause != null)
                message.cause = String(object.cause);
            return message;
        };

        /**
         * Creates a plain object from a XconnectChange message. Also converts values to other types if specified.
         * @function toObject
         * @memberof pvctrl.XconnectChange
         * @static
         * @param {pvctrl.XconnectChange} message XconnectChange
         * @param {$protobuf.IConversionOptions} [options] Conversion options
         * @returns {Object.<string,*>} Plain object
         */
        XconnectChange.toObject = function toObject(message, options, q) {
            if (!options)
                options = {};
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            let object = {};
            if (options.defaults)
                object.cause = "";
            if (message.cause != null && Object.hasOwnProperty.call(message, "cause"))
                object.cause = message.cause;
            return object;
        };

        /**
         * Converts this XconnectChange to JSON.
         * @function toJSON
         * @memberof pvctrl.XconnectChange
         * @instance
         * @returns {Object.<string,*>} JSON object
         */
        XconnectChange.prototype.toJSON = function toJSON() {
            return this.constructor.toObject(this, $protobuf.util.toJSONOptions);
        };

        return XconnectChange;
    })();

    return pvctrl;
})();

export { $root as default };
